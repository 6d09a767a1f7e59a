"""Labelled examples → label matrix + mask, label-aware splits (numpy only; the batches that
torch reads are in training/batches.py, so that a serving process never imports torch).

A label an example was never annotated with is *unknown*: its mask entry is 0, and it counts
neither in the loss nor in that label's metrics.
"""

import csv
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """The labelled data cannot train a model (too little, or no label with both classes)."""


@dataclass(frozen=True)
class Example:
    text: str
    # Known labels only; a label absent here is unknown, not negative.
    labels: Mapping[str, bool]
    language: str = ""  # its language code where known (a version records what it learnt from)


@dataclass(frozen=True)
class LabelMatrix:
    y: np.ndarray  # (n, L) float32, 0/1; meaningless where mask is 0
    mask: np.ndarray  # (n, L) float32, 1 where the label is known

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: np.ndarray) -> "LabelMatrix":
        return LabelMatrix(y=self.y[index], mask=self.mask[index])

    def positives(self) -> np.ndarray:
        positives: np.ndarray = (self.y * self.mask).sum(axis=0).astype(int)
        return positives


def label_matrix(examples: Sequence[Example], labels: Sequence[str]) -> LabelMatrix:
    y = np.zeros((len(examples), len(labels)), dtype=np.float32)
    mask = np.zeros_like(y)
    for i, example in enumerate(examples):
        for j, name in enumerate(labels):
            value = example.labels.get(name)
            if value is not None:
                y[i, j] = float(value)
                mask[i, j] = 1.0
    return LabelMatrix(y=y, mask=mask)


# A fixed share of labelled comments, chosen by a hash of their text, that no model version
# trains on: every version is measured on them, so versions compare on the same figures.
EVALUATION_SHARE = 0.1


def in_evaluation_set(text: str) -> bool:
    digest = hashlib.sha256(f"toxiscope-evaluation-set:{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < EVALUATION_SHARE


def canonical_order(examples: Sequence[Example]) -> list[Example]:
    """The same data in any order gives the same split, model and hash."""
    return sorted(examples, key=lambda e: (hashlib.sha256(e.text.encode()).digest(), sorted(e.labels.items())))


def data_hash(examples: Sequence[Example]) -> str:
    digest = hashlib.sha256()
    for example in canonical_order(examples):
        digest.update(json.dumps([example.text, sorted(example.labels.items())]).encode())
    return digest.hexdigest()


def iterative_stratified_folds(matrix: LabelMatrix, n_folds: int, seed: int) -> np.ndarray:
    """Assign each example a fold so every fold gets its share of each label's positives.

    Iterative stratification (Sechidis et al., 2011): the rarest label's positives are dealt
    first, each to the fold that still wants most of that label, so even a label with a handful
    of positives is spread over the folds instead of landing in one by chance.
    """
    rng = np.random.default_rng(seed)
    n = len(matrix)
    positive = (matrix.y * matrix.mask) > 0
    fold_of = np.full(n, -1)
    want_size = np.full(n_folds, n / n_folds)
    want_label = np.tile(positive.sum(axis=0) / n_folds, (n_folds, 1)).astype(float)
    unassigned_positive = positive.copy()
    while unassigned_positive.any():
        remaining = unassigned_positive.sum(axis=0)
        label = int(np.argmin(np.where(remaining > 0, remaining, np.iinfo(np.int64).max)))
        for i in rng.permutation(np.flatnonzero(unassigned_positive[:, label])):
            candidates = np.flatnonzero(want_label[:, label] == want_label[:, label].max())
            candidates = candidates[want_size[candidates] == want_size[candidates].max()]
            fold = int(rng.choice(candidates))
            fold_of[i] = fold
            want_size[fold] -= 1
            want_label[fold] -= positive[i]
            unassigned_positive[i] = False
    for i in rng.permutation(np.flatnonzero(fold_of < 0)):
        candidates = np.flatnonzero(want_size == want_size.max())
        fold = int(rng.choice(candidates))
        fold_of[i] = fold
        want_size[fold] -= 1
    return fold_of


def train_val_split(matrix: LabelMatrix, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n_folds = max(2, round(1 / val_fraction))
    folds = iterative_stratified_folds(matrix, n_folds, seed)
    return np.flatnonzero(folds != 0), np.flatnonzero(folds == 0)


def known_labels(record: dict[str, str], names: Sequence[str]) -> dict[str, bool]:
    """A CSV row's known labels: 1/true is positive, an empty or absent cell unknown."""
    return {name: record[name].strip() in ("1", "true", "True") for name in names if (record.get(name) or "").strip()}


def read_csv_examples(path: str | Path, labels: Sequence[str]) -> list[Example]:
    """Read the Jigsaw layout (id, comment_text, one 0/1 column per label). A label without a
    column, or with an empty cell, is unknown."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        text_column = next((c for c in ("comment_text", "text") if c in header), None)
        if text_column is None:
            raise ValueError(f"{path}: no comment_text or text column in the header {header}")
        present = [name for name in labels if name in header]
        examples = []
        for record in reader:
            examples.append(Example(text=record[text_column], labels=known_labels(record, present)))
    return examples
