"""Labelled examples → label matrix + mask, label-aware splits, length-bucketed batches.

A label an example was never annotated with is *unknown*: its mask entry is 0, and it counts
neither in the loss nor in that label's metrics.
"""

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


@dataclass(frozen=True)
class Example:
    text: str
    # Known labels only; a label absent here is unknown, not negative.
    labels: Mapping[str, bool]


@dataclass(frozen=True)
class LabelMatrix:
    y: np.ndarray  # (n, L) float32, 0/1; meaningless where mask is 0
    mask: np.ndarray  # (n, L) float32, 1 where the label is known

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: np.ndarray) -> "LabelMatrix":
        return LabelMatrix(y=self.y[index], mask=self.mask[index])

    def positives(self) -> np.ndarray:
        return (self.y * self.mask).sum(axis=0).astype(int)


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


@dataclass(frozen=True)
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    index: np.ndarray  # rows of the dataset in this batch

    @property
    def padded_tokens(self) -> int:
        return self.input_ids.numel()

    @property
    def real_tokens(self) -> int:
        return int(self.attention_mask.sum())


class EncodedDataset:
    """Token ids (tokenised once, variable length) and their labels."""

    def __init__(self, token_ids: list[list[int]], matrix: LabelMatrix, pad_id: int):
        self.token_ids = token_ids
        self.lengths = np.array([len(ids) for ids in token_ids])
        self.matrix = matrix
        self.pad_id = pad_id

    def __len__(self) -> int:
        return len(self.token_ids)

    def subset(self, index: np.ndarray) -> "EncodedDataset":
        return EncodedDataset([self.token_ids[i] for i in index], self.matrix.subset(index), self.pad_id)

    def collate(self, index: np.ndarray) -> Batch:
        width = int(self.lengths[index].max())
        input_ids = torch.full((len(index), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(index), width), dtype=torch.long)
        for row, i in enumerate(index):
            ids = self.token_ids[i]
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention_mask[row, : len(ids)] = 1
        return Batch(
            input_ids=input_ids,
            attention_mask=attention_mask,
            y=torch.from_numpy(self.matrix.y[index]),
            mask=torch.from_numpy(self.matrix.mask[index]),
            index=index,
        )

    def training_batches(self, batch_size: int, bucket_batches: int, rng: np.random.Generator) -> Iterator[Batch]:
        """Shuffled batches of similar length: each window of `bucket_batches` batches is sorted
        by length before it is cut, then the batches' order is shuffled, so padding stays small
        while every epoch still sees a different mix."""
        order = rng.permutation(len(self))
        window = batch_size * bucket_batches
        batches = []
        for start in range(0, len(order), window):
            chunk = order[start : start + window]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
        for b in rng.permutation(len(batches)):
            yield self.collate(batches[b])

    def inference_batches(self, batch_size: int) -> Iterator[Batch]:
        """Batches in length order: the least padding possible."""
        order = np.argsort(self.lengths, kind="stable")
        for start in range(0, len(order), batch_size):
            yield self.collate(order[start : start + batch_size])


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
