"""Which words of a comment a person would mark as toxic: a word tagger learnt from annotators'
marked spans (SemEval-2021 Task 5, Civil Comments, CC0), what the work page highlights.

Each word is read in its context: its character n-grams (so that "idiots" and "f*cking" are
read as "idiot" and "fucking" are), itself, its neighbours and the two word pairs it is in.
TF-IDF + logistic regression (training/tfidf.py) give the chance that a person marks it; a word
(never an identity term) is marked at the threshold that scores best on a held-back part of
the training posts, as is the regularisation. A comment none of whose words reach it gets the model's own driving words
instead (training/inference.py, Scorer.driving_words): a tagger learnt on English comments
marks little in another language.

    python -m training.span_tagger --data ../shared/data/toxic_spans_train.csv --out moderation/fixtures/spans
"""

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.data import LabelMatrix
from training.templates import GROUPS, IDENTITY_TERMS
from training.tfidf import TfidfModel

WORD = re.compile(r"\w[\w'’-]*")
SEPARATOR = "\x1f"  # between a word and its neighbours in one feature document
TAGGER_FILE = "span_tagger.json"
TUNE_SHARE = 0.15
REGULARISATIONS = (0.5, 1.0, 2.0)
THRESHOLDS = tuple(round(0.3 + 0.05 * step, 2) for step in range(14))

# Never marked, though annotators sometimes mark them in hateful posts: who a comment names is
# not what makes it toxic, and a highlighted "gay" would teach a moderator otherwise.
IDENTITY_WORDS = frozenset(
    word.lower() for term in (*IDENTITY_TERMS, *GROUPS) for word in term.split() if word.lower() != "people"
)

Post = tuple[str, set[int]]  # a comment and the character offsets annotators marked


def _word(document: str) -> str:
    return document.split(SEPARATOR, 1)[0]


def _context(document: str) -> list[str]:
    word, left, right = document.split(SEPARATOR)
    return [word, f"L:{left}", f"R:{right}", f"B:{left} {word}", f"A:{word} {right}"]


VECTORIZERS: dict[str, dict[str, Any]] = {
    "chars": {"analyzer": "char_wb", "preprocessor": _word, "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True},
    "context": {"analyzer": _context, "min_df": 2},
}


def word_documents(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Each word's character span in `text`, and the document its features are read from."""
    matches = list(WORD.finditer(text))
    words = [match.group().lower() for match in matches]
    documents = [
        SEPARATOR.join((word, words[i - 1] if i else "<s>", words[i + 1] if i + 1 < len(words) else "</s>"))
        for i, word in enumerate(words)
    ]
    return [match.span() for match in matches], documents


def character_f1(predicted: set[int], gold: set[int]) -> float:
    """SemEval-2021 Task 5's score of one post: the F1 of the marked character offsets; a post
    where neither marks anything scores 1."""
    if not gold and not predicted:
        return 1.0
    overlap = len(predicted & gold)
    if not overlap:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


def offsets(spans: Iterable[tuple[int, int]]) -> set[int]:
    return {offset for start, end in spans for offset in range(start, end)}


def read_posts(path: str | Path) -> list[Post]:
    """A SemEval-2021 Task 5 file: `spans` (a JSON list of character offsets) and `text`."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [(row["text"], set(json.loads(row["spans"]))) for row in csv.DictReader(handle)]


class SpanTagger:
    def __init__(self, model: TfidfModel, threshold: float, record: dict[str, Any]):
        self.model = model
        self.threshold = threshold
        self.record = record

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The character spans of the words a person would mark, in order (identity words never)."""
        return _marked(self.chances(text), self.threshold)

    def chances(self, text: str) -> list[tuple[tuple[int, int], float]]:
        """Each word's span and the chance that a person marks it, identity words left out."""
        spans, documents = word_documents(text)
        if not documents:
            return []
        chances = self.model.predict_proba(documents)[:, 0]
        return [
            (span, float(chance))
            for span, document, chance in zip(spans, documents, chances, strict=True)
            if _word(document) not in IDENTITY_WORDS
        ]

    @classmethod
    def fit(cls, posts: Sequence[Post], *, regularisation: float, threshold: float, seed: int = 13) -> "SpanTagger":
        documents, marked = [], []
        for text, gold in posts:
            spans, post_documents = word_documents(text)
            documents += post_documents
            # A word is marked where annotators marked most of its characters.
            marked += [sum(offset in gold for offset in range(*span)) * 2 > span[1] - span[0] for span in spans]
        truth = np.array(marked, dtype=np.float32)[:, None]
        matrix = LabelMatrix(truth, np.ones_like(truth))
        model = TfidfModel(("marked",), seed, vectorizers=VECTORIZERS, regularisation=regularisation)
        model.fit(documents, matrix)
        return cls(model, threshold, {"regularisation": regularisation, "threshold": threshold, "seed": seed})

    def save(self, directory: str | Path) -> None:
        """Written whole or not at all: into a folder beside it, then renamed into place (the one
        it replaces is first renamed aside, so its name never holds a half-written tagger)."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        self.model.save(staging)
        (staging / TAGGER_FILE).write_text(json.dumps(self.record, indent=1))
        retired = staging.with_name(f"{staging.name}-replaced")
        if directory.exists():
            os.replace(directory, retired)
        os.replace(staging, directory)
        shutil.rmtree(retired, ignore_errors=True)

    @classmethod
    def load(cls, directory: str | Path) -> "SpanTagger":
        directory = Path(directory)
        record = json.loads((directory / TAGGER_FILE).read_text())
        return cls(TfidfModel.load(directory, vectorizers=VECTORIZERS), record["threshold"], record)


def _marked(chances: list[tuple[tuple[int, int], float]], threshold: float) -> list[tuple[int, int]]:
    return [span for span, chance in chances if chance >= threshold]


def in_tune_part(text: str) -> bool:
    digest = hashlib.sha256(f"toxiscope-span-tune:{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < TUNE_SHARE


def build(posts: Sequence[Post], *, seed: int = 13) -> SpanTagger:
    """The regularisation and threshold that score best on the tune part (a hash of the text),
    then the tagger refitted on every post with them."""
    fit = [post for post in posts if not in_tune_part(post[0])]
    tune = [post for post in posts if in_tune_part(post[0])]
    tried = []
    for regularisation in REGULARISATIONS:
        tagger = SpanTagger.fit(fit, regularisation=regularisation, threshold=0.5, seed=seed)
        scored = [(tagger.chances(text), gold) for text, gold in tune]  # once, for every threshold
        for threshold in THRESHOLDS:
            f1 = statistics.mean(character_f1(offsets(_marked(words, threshold)), gold) for words, gold in scored)
            tried.append((f1, regularisation, threshold))
    tune_f1, regularisation, threshold = max(tried)
    tagger = SpanTagger.fit(posts, regularisation=regularisation, threshold=threshold, seed=seed)
    digest = hashlib.sha256("\0".join(f"{text}\0{sorted(gold)}" for text, gold in posts).encode()).hexdigest()
    tagger.record |= {"tune_f1": round(tune_f1, 4), "posts": len(posts), "tune_posts": len(tune), "data_sha256": digest}
    return tagger


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.span_tagger", description=__doc__)
    parser.add_argument("--data", required=True, help="a SemEval-2021 Task 5 CSV (spans, text)")
    parser.add_argument("--out", required=True, help="the folder the tagger is written to (replaced)")
    args = parser.parse_args(argv)
    try:
        posts = read_posts(args.data)
    except (OSError, KeyError, ValueError) as exc:
        print(f"error: cannot read {args.data}: {exc}", file=sys.stderr)
        return 2
    if not posts:
        print(f"error: {args.data} holds no posts", file=sys.stderr)
        return 2
    tagger = build(posts)
    tagger.save(args.out)
    record = tagger.record
    print(
        f"span tagger: {record['posts']} posts, C={record['regularisation']}, threshold {record['threshold']}, "
        f"character F1 {record['tune_f1']} on {record['tune_posts']} held-back posts; written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
