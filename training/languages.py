"""Which language a text is in: py3langid (a kept, offline fork of langid.py; its model ships in
the wheel, about 0.05 ms a text). Only a confident detection counts: a short text ("lol", "ok
thanks") is too short to tell, and stays unknown rather than guessed (bench/languages.py
measures it on the shared sets)."""

from collections import Counter
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

# At 0.9, 0.07 % of English Jigsaw comments are taken for another language, and none of three
# words or fewer (bench/languages.py).
CONFIDENCE = 0.9


@cache
def _identifier() -> Any:
    # Loaded on first use (0.7 s), never when a web worker starts.
    import py3langid
    from py3langid.langid import LanguageIdentifier

    return LanguageIdentifier.from_modelpath(Path(py3langid.__file__).parent / "data" / "model.npz.xz", norm_probs=True)


def classify(text: str) -> tuple[str, float]:
    """`text`'s likeliest language and its probability."""
    language, probability = _identifier().classify(text)
    return str(language), float(probability)


def detect_language(text: str, confidence: float = CONFIDENCE) -> str:
    """`text`'s language code if detected with at least `confidence`, else "" (unknown)."""
    language, probability = classify(text)
    return language if probability >= confidence else ""


def language_counts(texts: Sequence[str], languages: Sequence[str]) -> dict[str, int]:
    """How many texts are in each language: the one given, else detected ("" unknown), most first."""
    found = (language or detect_language(text) for text, language in zip(texts, languages, strict=True))
    return dict(Counter(found).most_common())
