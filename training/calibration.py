"""Per-label decision thresholds chosen on held-out predictions."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import precision_recall_curve

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class LabelThreshold:
    threshold: float
    positives: int
    # False when there were too few positives to choose one: the default stands.
    calibrated: bool
    f1: float | None


def best_f1_threshold(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The exact F1 optimum over the precision–recall curve: (threshold, F1)."""
    precision, recall, thresholds = precision_recall_curve(truth, scores)
    precision, recall = precision[:-1], recall[:-1]
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros_like(precision), where=precision + recall > 0
    )
    best = int(np.argmax(f1))
    return float(thresholds[best]), float(f1[best])


def calibrate_thresholds(
    probs: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    labels: Sequence[str],
    *,
    floor: float,
    min_positives: int,
) -> dict[str, LabelThreshold]:
    result = {}
    for j, name in enumerate(labels):
        known = mask[:, j] > 0
        truth = y[known, j]
        positives = int(truth.sum())
        if positives < min_positives or positives == len(truth):
            result[name] = LabelThreshold(DEFAULT_THRESHOLD, positives, calibrated=False, f1=None)
            continue
        threshold, f1 = best_f1_threshold(probs[known, j], truth)
        # The floor keeps a label with few, low-scored positives from flagging everything.
        result[name] = LabelThreshold(max(threshold, floor), positives, calibrated=True, f1=f1)
    return result


def threshold_values(thresholds: dict[str, LabelThreshold]) -> dict[str, float]:
    # Never rounded: rounding up could step over the very score the threshold was chosen at.
    return {name: t.threshold for name, t in thresholds.items()}
