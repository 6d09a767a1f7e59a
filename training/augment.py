"""Augmentation of the training rows, and the disguises it and the robustness report share.

- Disguised copies of toxic rows: the normaliser's rules run backwards on the words people
  disguise (training/normalise.py MASKABLE), so a model also learns what the normaliser cannot
  undo exactly ("fuuck", a half-masked word).
- Counterfactual copies: a row that names an identity gets a copy naming another (label kept),
  so that no identity term is evidence of toxicity by itself.
- Template sentences written for this project (training/templates.py): non-toxic sentences
  that mention identities, and threats and attacks on groups, the rare labels.

Only training rows are augmented: validation, calibration and every evaluation see real rows.
Seeded: the same rows and seed give the same copies.
"""

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from training.data import Example
from training.normalise import LEET, MASKABLE
from training.templates import IDENTITY_TERMS, training_templates

_LETTER_TO_LEET: dict[str, list[str]] = {}
for _symbol, _letter in LEET.items():
    _LETTER_TO_LEET.setdefault(_letter, []).append(_symbol)
# Cyrillic and Greek look-alikes of Latin letters.
HOMOGLYPHS = {"a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х", "y": "у", "k": "κ", "t": "τ"}


def _leet(word: str, rng: random.Random) -> str:
    inner = [k for k in range(1, len(word) - 1) if word[k].lower() in _LETTER_TO_LEET]
    if not inner:
        return word
    chars = list(word)
    for k in rng.sample(inner, max(1, len(inner) // 2)):
        chars[k] = rng.choice(_LETTER_TO_LEET[chars[k].lower()])
    return "".join(chars)


def _masked(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    return word[0] + "*" * (len(word) - 2) + word[-1] if rng.random() < 0.5 else word[0] + "*" * (len(word) - 1)


def _homoglyph(word: str, rng: random.Random) -> str:
    return "".join(HOMOGLYPHS.get(char, char) if rng.random() < 0.7 else char for char in word)


def _doubled(word: str, rng: random.Random) -> str:
    k = rng.randrange(len(word))
    return word[: k + 1] + word[k] * rng.randint(2, 5) + word[k + 1 :]


# name → a disguise of one word. The robustness report measures each; augmentation draws them.
DISGUISES: dict[str, Callable[[str, random.Random], str]] = {
    "leetspeak": _leet,
    "spaced": lambda word, rng: " ".join(word),
    "dotted": lambda word, rng: ".".join(word),
    "homoglyph": _homoglyph,
    "masked": _masked,
    "doubled": _doubled,
    "zero_width": lambda word, rng: "\u200b".join(word),
}
_MASKABLE_WORD = re.compile(r"\b(" + "|".join(sorted(MASKABLE, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def has_disguisable_word(text: str) -> bool:
    return _MASKABLE_WORD.search(text) is not None


def disguise(text: str, name: str, rng: random.Random) -> str:
    """`text` with each word that people disguise (MASKABLE) disguised by DISGUISES[name]."""
    return _MASKABLE_WORD.sub(lambda match: DISGUISES[name](match.group(), rng), text)


_TERM = re.compile(r"\b(" + "|".join(sorted(IDENTITY_TERMS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def swap_identities(text: str, rng: random.Random) -> str | None:
    """`text` with every identity term replaced by another, or None if it names none."""
    if not _TERM.search(text):
        return None

    def swap(match: re.Match[str]) -> str:
        other = rng.choice([term for term in IDENTITY_TERMS if term != match.group().lower()])
        return other.capitalize() if match.group()[0].isupper() else other

    return _TERM.sub(swap, text)


def augment(
    examples: Sequence[Example], *, seed: int, toxic_label: str = "toxic"
) -> tuple[list[Example], dict[str, Any]]:
    """The added training rows and a record of what was added, and how many of each."""
    rng = random.Random(seed)
    names = sorted(DISGUISES)
    disguised, swapped = [], []
    for example in examples:
        if example.labels.get(toxic_label) and has_disguisable_word(example.text):
            disguised.append(Example(disguise(example.text, rng.choice(names), rng), example.labels))
        counterfactual = swap_identities(example.text, rng)
        if counterfactual is not None:
            swapped.append(Example(counterfactual, example.labels))
    templates = training_templates(seed)
    added = disguised + swapped + templates
    record = {
        "disguised_toxic_copies": len(disguised),
        "identity_swaps": len(swapped),
        "template_sentences": len(templates),
        "template_positives": {
            label: sum(1 for e in templates if e.labels.get(label)) for label in ("toxic", "threat", "identity_hate")
        },
        "total": len(added),
    }
    return added, record


__all__ = ["DISGUISES", "augment", "disguise", "has_disguisable_word", "swap_identities"]
