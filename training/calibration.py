"""Per-label decision thresholds, and per-label maps from raw scores to probabilities, both
fitted on the validation split's (or out-of-fold) predictions."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

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
    from sklearn.metrics import precision_recall_curve  # sklearn loads only where thresholds are chosen

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


# Probability calibration: a monotone map per label from the model's raw score to a probability,
# so that "0.8" means four in five such comments carry the label.
ISOTONIC_MIN_POSITIVES = 30  # below this, isotonic steps overfit: Platt's two parameters only
ECE_BINS = 15


def _logit(scores: np.ndarray) -> np.ndarray:
    # np.minimum/np.maximum rather than np.clip: the same numbers at a third of its call cost.
    clipped = np.minimum(np.maximum(scores.astype(np.float64), 1e-7), 1 - 1e-7)
    return np.log(clipped) - np.log1p(-clipped)


def _platt(scores: np.ndarray, a: float | np.ndarray, b: float | np.ndarray) -> np.ndarray:
    """sigmoid(a·logit(p) + b): for one label's column, or for several at once with a and b per
    column."""
    mapped: np.ndarray = 1.0 / (1.0 + np.exp(-(a * _logit(scores) + b)))
    return mapped


@dataclass(frozen=True)
class ProbabilityMap:
    """`platt`: sigmoid(a·logit(p) + b). `isotonic`: piecewise linear through (x, y) knots.
    `identity`: too little data to calibrate (the raw score stands)."""

    method: str
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def apply(self, scores: np.ndarray) -> np.ndarray:
        if self.method == "platt":
            return _platt(scores, self.a, self.b).astype(np.float32)
        if self.method == "isotonic":
            mapped: np.ndarray = np.interp(scores, *self._knots)
            return mapped.astype(np.float32)
        return scores.astype(np.float32)

    @cached_property
    def _knots(self) -> tuple[np.ndarray, np.ndarray]:
        # np.interp would turn the tuples into arrays on every call: most of a comment's cost.
        return np.array(self.x), np.array(self.y)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "a": self.a, "b": self.b, "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> "ProbabilityMap":
        return cls(value["method"], value["a"], value["b"], tuple(value["x"]), tuple(value["y"]))


def fit_probability_map(method: str, scores: np.ndarray, truth: np.ndarray) -> ProbabilityMap:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if method == "platt":
        regression = LogisticRegression(C=1e4).fit(_logit(scores).reshape(-1, 1), truth)
        return ProbabilityMap("platt", a=float(regression.coef_[0, 0]), b=float(regression.intercept_[0]))
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, truth)
    return ProbabilityMap(
        "isotonic", x=tuple(map(float, isotonic.X_thresholds_)), y=tuple(map(float, isotonic.y_thresholds_))
    )


def _cross_validated_brier(method: str, scores: np.ndarray, truth: np.ndarray, folds: int = 5) -> float:
    """The map's Brier score on rows it was not fitted on (k folds, stratified by class)."""
    order = np.argsort(truth, kind="stable")
    fold_of = np.empty(len(truth), dtype=int)
    fold_of[order] = np.arange(len(truth)) % folds
    errors = []
    for k in range(folds):
        inside, held_out = fold_of != k, fold_of == k
        if truth[inside].min() == truth[inside].max():
            return float("inf")
        fitted = fit_probability_map(method, scores[inside], truth[inside])
        errors.append((fitted.apply(scores[held_out]) - truth[held_out]) ** 2)
    return float(np.mean(np.concatenate(errors)))


def fit_probability_maps(
    probs: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    labels: Sequence[str],
    *,
    min_positives: int,
    methods: Sequence[str] = ("platt", "isotonic"),
) -> dict[str, ProbabilityMap]:
    """Per label, on validation-split (or out-of-fold) predictions: the one of `methods` with the lower
    cross-validated Brier score; identity where a label has too few positives (or negatives)
    among its known rows. Isotonic's steps tie scores; where ranking must survive the map (the
    parts of a blend), pass Platt alone."""
    maps = {}
    for j, name in enumerate(labels):
        known = mask[:, j] > 0
        scores, truth = probs[known, j].astype(np.float64), (y[known, j] > 0.5).astype(np.float64)
        positives = int(truth.sum())
        if min(positives, len(truth) - positives) < max(min_positives, 5):
            maps[name] = ProbabilityMap("identity")
            continue
        allowed = [m for m in methods if m != "isotonic" or positives >= ISOTONIC_MIN_POSITIVES]
        best = min(allowed, key=lambda method: _cross_validated_brier(method, scores, truth))
        maps[name] = fit_probability_map(best, scores, truth)
    return maps


def apply_probability_maps(probs: np.ndarray, maps: dict[str, ProbabilityMap], labels: Sequence[str]) -> np.ndarray:
    """Each label's map on its column: the same numbers as ProbabilityMap.apply, with the Platt
    columns in one operation (a request scores one comment: per-call costs, not arithmetic)."""
    if not maps:
        return probs
    mapped = probs.astype(np.float32)
    platt = [j for j, name in enumerate(labels) if maps[name].method == "platt"]
    if platt:
        a = np.array([maps[labels[j]].a for j in platt])
        b = np.array([maps[labels[j]].b for j in platt])
        mapped[:, platt] = _platt(probs[:, platt], a, b)
    for j, name in enumerate(labels):
        if maps[name].method == "isotonic":
            mapped[:, j] = maps[name].apply(probs[:, j])
    return mapped


def part_probabilities(
    neural: np.ndarray, tfidf: np.ndarray, part_maps: dict[str, dict[str, ProbabilityMap]], labels: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each part as a probability through its own maps (a focal-loss model's raw scores sit near
    0, a balanced logistic regression's near 0.5): comparable with each other."""
    return (
        apply_probability_maps(neural, part_maps["neural"], labels),
        apply_probability_maps(tfidf, part_maps["tfidf"], labels),
    )


def blend_parts(
    neural: np.ndarray,
    tfidf: np.ndarray,
    part_maps: dict[str, dict[str, ProbabilityMap]],
    weight: float,
    labels: Sequence[str],
) -> np.ndarray:
    """The weighted mean of the parts' probabilities (part_probabilities)."""
    return blend(*part_probabilities(neural, tfidf, part_maps, labels), weight)


def blend(neural_probs: np.ndarray, tfidf_probs: np.ndarray, weight: float) -> np.ndarray:
    return (1 - weight) * neural_probs + weight * tfidf_probs


def calibration_error(scores: np.ndarray, truth: np.ndarray, bins: int = ECE_BINS) -> dict[str, Any]:
    """Expected calibration error (equal-width bins, weighted by their share of rows) and Brier
    score; plus the bins themselves, for a reliability diagram."""
    truth = truth.astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            mean_score, observed = float(scores[inside].mean()), float(truth[inside].mean())
            ece += inside.mean() * abs(mean_score - observed)
            rows.append({"score": mean_score, "observed": observed, "count": int(inside.sum())})
    return {"ece": float(ece), "brier": float(np.mean((scores - truth) ** 2)), "bins": rows}
