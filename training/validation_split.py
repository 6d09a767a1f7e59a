"""The validation split a model was calibrated and evaluated on, kept with its artifact.

`validation.json` holds the split's texts, known labels and the model's scores, plus a short
hash of every training text. With it an admin can look at a version's precision–recall curves
and score histograms, simulate thresholds, and compare two versions on the same comments,
leaving out those the other version trained on.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.artifacts import resolve_inside
from training.data import Example, label_matrix

FILE = "validation.json"


def text_key(text: str) -> str:
    """64 bits of SHA-256: enough to tell a corpus's texts apart, a sixth of the full digest's size."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def validation_split_record(
    examples: Sequence[Example], probs: np.ndarray, labels: Sequence[str], train_texts: Sequence[str]
) -> dict[str, Any]:
    return {
        "labels": list(labels),
        "texts": [example.text for example in examples],
        # Known labels only, as in an Example: an unknown label stays absent.
        "truth": [{label: value for label, value in example.labels.items() if label in labels} for example in examples],
        "scores": np.round(probs, 5).tolist(),
        "train_text_keys": sorted({text_key(text) for text in train_texts}),
    }


@dataclass(frozen=True)
class ValidationSplit:
    labels: list[str]
    texts: list[str]
    y: np.ndarray  # (n, L) 0/1, meaningless where mask is 0
    mask: np.ndarray  # (n, L) 1 where the label is known
    scores: np.ndarray  # (n, L) this version's scores
    train_text_keys: frozenset[str]

    def __len__(self) -> int:
        return len(self.texts)

    def without(self, keys: frozenset[str]) -> "ValidationSplit":
        """The examples whose text is not among `keys` (another version's training texts)."""
        keep = np.array([text_key(text) not in keys for text in self.texts], dtype=bool)
        return ValidationSplit(
            self.labels,
            [text for text, kept in zip(self.texts, keep, strict=True) if kept],
            self.y[keep],
            self.mask[keep],
            self.scores[keep],
            self.train_text_keys,
        )

    def label_index(self, label: str) -> int:
        return self.labels.index(label)


def load_validation_split(path: str | Path, root: str | Path | None = None) -> ValidationSplit:
    record = json.loads((resolve_inside(path, root) / FILE).read_text())
    labels = record["labels"]
    matrix = label_matrix(
        [Example(text, truth) for text, truth in zip(record["texts"], record["truth"], strict=True)], labels
    )
    return ValidationSplit(
        labels=labels,
        texts=record["texts"],
        y=matrix.y,
        mask=matrix.mask,
        scores=np.array(record["scores"], dtype=np.float32).reshape(-1, len(labels)),
        train_text_keys=frozenset(record["train_text_keys"]),
    )


@dataclass(frozen=True)
class ThresholdOutcome:
    """What a review threshold and an auto-reject threshold do to one label on held-out data."""

    known: int
    positives: int
    reviewed: int  # review threshold ≤ score < auto-reject threshold
    auto_rejected: int  # score ≥ auto-reject threshold
    precision: float | None  # of flagging (reviewed or rejected) as this label
    recall: float | None
    auto_reject_precision: float | None


def threshold_outcome(validation: ValidationSplit, label: str, review: float, reject: float) -> ThresholdOutcome:
    j = validation.label_index(label)
    known = validation.mask[:, j] > 0
    truth = validation.y[known, j] > 0.5
    scores = validation.scores[known, j]
    flagged = scores >= review
    rejected = scores >= reject
    true_flags = int((flagged & truth).sum())
    return ThresholdOutcome(
        known=int(known.sum()),
        positives=int(truth.sum()),
        reviewed=int((flagged & ~rejected).sum()),
        auto_rejected=int(rejected.sum()),
        precision=true_flags / int(flagged.sum()) if flagged.any() else None,
        recall=true_flags / int(truth.sum()) if truth.any() else None,
        auto_reject_precision=int((rejected & truth).sum()) / int(rejected.sum()) if rejected.any() else None,
    )


def pr_curve(validation: ValidationSplit, label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(precision, recall, thresholds) over the label's known examples; None without both classes."""
    from sklearn.metrics import precision_recall_curve

    j = validation.label_index(label)
    known = validation.mask[:, j] > 0
    truth = validation.y[known, j] > 0.5
    if truth.all() or not truth.any():
        return None
    precision, recall, thresholds = precision_recall_curve(truth, validation.scores[known, j])
    return precision, recall, thresholds


def class_scores(validation: ValidationSplit, label: str) -> tuple[np.ndarray, np.ndarray]:
    """The label's scores for its known positives and its known negatives."""
    j = validation.label_index(label)
    known = validation.mask[:, j] > 0
    truth = validation.y[:, j] > 0.5
    return validation.scores[known & truth, j], validation.scores[known & ~truth, j]
