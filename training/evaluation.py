"""Metrics per label and overall, on known labels only.

sklearn is imported by the functions that use it: a web process imports this module at start
and computes metrics only on the pages that show them (tests/toxiscope/test_boot.py).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from training.calibration import best_f1_threshold


def _f1(tp: float, fp: float, fn: float) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _counts(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(predicted & truth))
    fp = float(np.sum(predicted & ~truth))
    fn = float(np.sum(~predicted & truth))
    return tp, fp, fn


def evaluate(
    probs: np.ndarray, y: np.ndarray, mask: np.ndarray, labels: Sequence[str], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """Precision, recall, F1 (at `thresholds`), ROC-AUC, PR-AUC and positives per label;
    macro-F1 over the labels with positives; micro-F1 over every known entry.

    A label with no known entry (e.g. racism on Jigsaw rows) gets `evaluated: false` and is
    left out of both averages.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    per_label: dict[str, dict[str, Any]] = {}
    totals = np.zeros(3)
    for j, name in enumerate(labels):
        known = mask[:, j] > 0
        truth = y[known, j] > 0.5
        scores = probs[known, j]
        positives = int(truth.sum())
        if positives == 0:
            per_label[name] = {"evaluated": False, "known": int(known.sum()), "positives": 0}
            continue
        predicted = scores >= thresholds[name]
        tp, fp, fn = _counts(predicted, truth)
        totals += (tp, fp, fn)
        both_classes = 0 < positives < len(truth)
        per_label[name] = {
            "evaluated": True,
            "known": int(known.sum()),
            "positives": positives,
            "threshold": float(thresholds[name]),
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": _f1(tp, fp, fn),
            "roc_auc": float(roc_auc_score(truth, scores)) if both_classes else None,
            "pr_auc": float(average_precision_score(truth, scores)) if both_classes else None,
        }
    evaluated = [m for m in per_label.values() if m["evaluated"]]
    return {
        "labels": per_label,
        "macro_f1": float(np.mean([m["f1"] for m in evaluated])) if evaluated else None,
        "micro_f1": _f1(*totals),
    }


def evaluate_both(
    probs: np.ndarray, y: np.ndarray, mask: np.ndarray, labels: Sequence[str], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """At the calibrated thresholds and at 0.5, for comparison."""
    return {
        "calibrated": evaluate(probs, y, mask, labels, thresholds),
        "at_0_5": evaluate(probs, y, mask, labels, dict.fromkeys(labels, 0.5)),
    }


def macro_f1_at_best_thresholds(probs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    """Early stopping's score: each label at its own best threshold, so the focal loss's low
    probabilities do not make a good model look bad at 0.5."""
    f1s = []
    for j in range(y.shape[1]):
        known = mask[:, j] > 0
        truth = y[known, j]
        if 0 < truth.sum() < len(truth):
            f1s.append(best_f1_threshold(probs[known, j], truth)[1])
    return float(np.mean(f1s)) if f1s else 0.0


def macro_roc_auc(probs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    """Mean ROC-AUC over the labels with both classes among their known entries: a steadier
    figure than F1 to choose a checkpoint on, since it does not hinge on a few rows near a
    threshold."""
    from sklearn.metrics import roc_auc_score

    aucs = []
    for j in range(y.shape[1]):
        known = mask[:, j] > 0
        truth = y[known, j] > 0.5
        if 0 < truth.sum() < len(truth):
            aucs.append(roc_auc_score(truth, probs[known, j]))
    return float(np.mean(aucs)) if aucs else 0.0
