"""Plots of a model version, rendered server-side to SVG with matplotlib and cached on disk
beside the artifacts (under `.plots/`, keyed by the version and its thresholds): an artifact
directory itself is never written to after training. And the models page's two charts over
time, drawn from the database at each view: disagreement by week, drift by day."""

import hashlib
import io
import json
import math
import os
from pathlib import Path

import numpy as np
from django.conf import settings

from moderation.models import DriftSnapshot, ModelVersion
from moderation.selectors.disagreement import MEASURES, Week
from moderation.selectors.model_versions import validation_split_of
from training.calibration import calibration_error
from training.validation_split import ValidationSplit, class_scores, pr_curve

KINDS = ("learning-curve", "pr-curves", "histograms", "reliability")
COLOURS = {"train": "#2f6fde", "val": "#c2352b", "pos": "#c2352b", "neg": "#8aa9e0"}


def plot_svg(version: ModelVersion, kind: str) -> bytes | None:
    """The SVG of one plot of `version`; None when its artifact lacks the data for it."""
    key = hashlib.sha256(json.dumps([version.name, version.thresholds, kind], sort_keys=True).encode()).hexdigest()
    cached = Path(settings.TOXISCOPE_ARTIFACTS_DIR) / ".plots" / f"{key[:24]}.svg"
    if cached.is_file():
        return cached.read_bytes()
    svg = _render(version, kind)
    if svg is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(svg)
        partial.replace(cached)  # atomic: a concurrent reader sees the old file or the whole new one
    return svg


def _render(version: ModelVersion, kind: str) -> bytes | None:
    if kind == "learning-curve":
        curve = version.metrics.get("learning_curve") or []
        return _learning_curve(curve, version.metrics.get("best_epoch")) if curve else None
    validation = validation_split_of(version)
    if validation is None:
        return None
    if kind == "pr-curves":
        return _pr_curves(validation, version.thresholds)
    if kind == "reliability":
        return _reliability(validation)
    return _histograms(validation, version.thresholds)


def _pyplot():
    """matplotlib, imported on the first plot: it adds a tenth to every process's heap and most
    processes never draw."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    matplotlib.rcParams["svg.fonttype"] = "none"  # text as text: smaller, selectable, read by screen readers
    import matplotlib.pyplot

    return matplotlib.pyplot


def _svg(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def _learning_curve(curve: list[dict], best_epoch: int | None) -> bytes:
    epochs = [point["epoch"] for point in curve]
    figure, loss_axis = _pyplot().subplots(figsize=(7, 3.2))
    loss_axis.plot(epochs, [p.get("train_loss") for p in curve], "o-", color=COLOURS["train"], label="train loss")
    if any("val_loss" in p for p in curve):
        loss_axis.plot(epochs, [p.get("val_loss") for p in curve], "o--", color=COLOURS["train"], label="val loss")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("focal loss")
    f1_axis = loss_axis.twinx()
    f1_axis.plot(epochs, [p.get("val_macro_f1") for p in curve], "s-", color=COLOURS["val"], label="val macro-F1")
    f1_axis.set_ylabel("val macro-F1")
    f1_axis.set_ylim(0, 1)
    if best_epoch:
        loss_axis.axvline(best_epoch, color="#999", linestyle=":", label=f"kept: epoch {best_epoch}")
    lines = loss_axis.get_legend_handles_labels()
    extra = f1_axis.get_legend_handles_labels()
    loss_axis.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=8, loc="center right")
    loss_axis.set_xticks(epochs)
    return _svg(figure)


def _grid(labels: list[str]):
    columns = min(4, len(labels))
    rows = math.ceil(len(labels) / columns)
    figure, axes = _pyplot().subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False)
    for axis in axes.flat[len(labels) :]:
        axis.set_visible(False)
    return figure, list(axes.flat)


def _pr_curves(validation: ValidationSplit, thresholds: dict[str, float]) -> bytes:
    figure, axes = _grid(validation.labels)
    for axis, label in zip(axes, validation.labels, strict=False):
        axis.set_title(label, fontsize=10)
        curve = pr_curve(validation, label)
        if curve is None:
            axis.text(0.5, 0.5, "no positives\nin the validation split", ha="center", va="center", fontsize=8)
            continue
        precision, recall, cutoffs = curve
        axis.plot(recall, precision, color=COLOURS["train"])
        threshold = thresholds.get(label)
        if threshold is not None and len(cutoffs):
            at = min(range(len(cutoffs)), key=lambda i: abs(cutoffs[i] - threshold))
            axis.plot(recall[at], precision[at], "o", color=COLOURS["val"], label=f"threshold {threshold:.2f}")
            axis.legend(fontsize=7, loc="lower left")
        axis.set_xlim(0, 1.02)
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("recall", fontsize=8)
        axis.set_ylabel("precision", fontsize=8)
    figure.tight_layout()
    return _svg(figure)


def _histograms(validation: ValidationSplit, thresholds: dict[str, float]) -> bytes:
    figure, axes = _grid(validation.labels)
    bins = [i / 20 for i in range(21)]
    for axis, label in zip(axes, validation.labels, strict=False):
        positives, negatives = class_scores(validation, label)
        axis.set_title(label, fontsize=10)
        axis.hist(negatives, bins=bins, color=COLOURS["neg"], alpha=0.8, label=f"negatives ({len(negatives)})")
        axis.hist(positives, bins=bins, color=COLOURS["pos"], alpha=0.7, label=f"positives ({len(positives)})")
        if label in thresholds:
            axis.axvline(thresholds[label], color="#1d2330", linestyle="--", linewidth=1)
        axis.set_yscale("log")
        axis.set_xlabel("score", fontsize=8)
        axis.legend(fontsize=7)
    figure.tight_layout()
    return _svg(figure)


def _reliability(validation: ValidationSplit) -> bytes:
    """Per label, the mean served probability of each score bin against how often its comments
    carry the label: on the diagonal, "0.8" means four in five."""
    figure, axes = _grid(validation.labels)
    for axis, label in zip(axes, validation.labels, strict=False):
        axis.set_title(label, fontsize=10)
        positives, negatives = class_scores(validation, label)
        if not len(positives):
            axis.text(0.5, 0.5, "no positives\nin the validation split", ha="center", va="center", fontsize=8)
            continue
        truth = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
        error = calibration_error(np.concatenate([positives, negatives]), truth)
        axis.plot([0, 1], [0, 1], color="#9aa3b2", linestyle="--", linewidth=1)
        bins = error["bins"]
        axis.plot([b["score"] for b in bins], [b["observed"] for b in bins], "o-", color=COLOURS["train"])
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("served probability", fontsize=8)
        axis.set_ylabel("share that carry the label", fontsize=8)
        axis.text(0.03, 0.9, f"ECE {error['ece']:.3f}\nBrier {error['brier']:.3f}", fontsize=7)
    figure.tight_layout()
    return _svg(figure)


MEASURE_NAMES = {
    "flags_overturned": "flags overturned",
    "suggestions_corrected": "suggestions corrected",
    "auto_approvals_rejected": "auto-approvals rejected (audit)",
}


def disagreement_svg(weeks: list[Week]) -> bytes | None:
    """Each measure's share by week, the weeks that promoted a version marked."""
    if not weeks:
        return None
    weeks = sorted(weeks, key=lambda week: week.week)
    figure, axis = _pyplot().subplots(figsize=(7, 2.8))
    days = [week.week for week in weeks]
    for measure, colour in zip(MEASURES, ("#c2352b", "#2f6fde", "#8a5cc2"), strict=True):
        shares = [week.measures[measure].share if measure in week.measures else None for week in weeks]
        axis.plot(
            days,
            [math.nan if share is None else share for share in shares],
            "o-",
            color=colour,
            label=MEASURE_NAMES[measure],
        )
    for week in weeks:
        if week.promoted:
            axis.axvline(week.week, color="#999", linestyle=":")
            axis.annotate(", ".join(week.promoted), (week.week, 1.0), fontsize=7, rotation=90, va="top", ha="right")
    axis.set_ylim(0, 1.02)
    axis.set_ylabel("share of judgements")
    axis.legend(fontsize=7, loc="upper left")
    figure.autofmt_xdate()
    return _svg(figure)


def drift_svg(snapshots: list[DriftSnapshot], alert: float) -> bytes | None:
    """Per day, the largest index of a label's scores and the index of comment length, against
    the alarm line; days that alarmed marked."""
    if not snapshots:
        return None
    figure, axis = _pyplot().subplots(figsize=(7, 2.8))
    days = [snapshot.day for snapshot in snapshots]
    axis.plot(
        days,
        [max(s.labels.values(), default=0.0) for s in snapshots],
        "o-",
        color=COLOURS["val"],
        label="scores (largest label)",
    )
    axis.plot(days, [s.length_psi for s in snapshots], "s--", color=COLOURS["train"], label="comment length")
    axis.axhline(alert, color="#1d2330", linestyle=":", linewidth=1, label=f"alarm ({alert})")
    for snapshot in snapshots:
        if snapshot.alarms:
            axis.axvspan(snapshot.day, snapshot.day, color=COLOURS["val"], alpha=0.3)
    axis.set_ylabel("stability index")
    axis.legend(fontsize=7, loc="upper left")
    figure.autofmt_xdate()
    return _svg(figure)
