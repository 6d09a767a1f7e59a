"""What a training run reports: the final table, in the reference's format, with the baseline
beside the model, and the metrics.json entries on serving and calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from training.calibration import LabelThreshold, calibration_error
from training.data import LabelMatrix
from training.evaluation import macro_roc_auc
from training.onnx_model import INT8_FILE, ONNX_FILE, OnnxModel

if TYPE_CHECKING:
    from training.batches import EncodedDataset


def _cell(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def results_table(metrics: dict[str, Any]) -> str:
    model = metrics["model"]["calibrated"]
    baseline = (metrics.get("baseline") or {}).get("calibrated")
    header = f"{'label':<14} {'F1':>6} {'thresh':>6} {'AUC':>6} {'pos':>5}"
    if baseline:
        header += f"   | {'TF-IDF F1':>9} {'thresh':>6} {'AUC':>6}"
    lines = [header, "-" * len(header)]
    for name, row in model["labels"].items():
        if not row["evaluated"]:
            line = f"{name:<14} {'not evaluated: no known positives':>30}"
        else:
            line = (
                f"{name:<14} {_cell(row['f1']):>6} {_cell(row['threshold'], 2):>6} "
                f"{_cell(row['roc_auc']):>6} {row['positives']:>5}"
            )
            if baseline:
                other = baseline["labels"][name]
                line += f"   | {_cell(other['f1']):>9} {_cell(other['threshold'], 2):>6} {_cell(other['roc_auc']):>6}"
        lines.append(line)
    lines.append("-" * len(header))
    summary = f"Macro-F1 {_cell(model['macro_f1'], 4)}  Micro-F1 {_cell(model['micro_f1'], 4)}"
    if baseline:
        summary += f"   | TF-IDF Macro-F1 {_cell(baseline['macro_f1'], 4)}  Micro-F1 {_cell(baseline['micro_f1'], 4)}"
    lines.append(summary)
    at_half = metrics["model"]["at_0_5"]
    lines.append(
        f"(at threshold 0.5: Macro-F1 {_cell(at_half['macro_f1'], 4)}  Micro-F1 {_cell(at_half['micro_f1'], 4)})"
    )
    return "\n".join(lines)


def served_forms_report(onnx: dict[str, bytes], val: EncodedDataset, torch_probs: np.ndarray) -> dict[str, Any]:
    """What serving with ONNX, and with its int8 quantisation, changes on the validation split
    (the transformer's own scores, before blending and calibration): ONNX should match torch to
    float rounding; int8 trades a measured change in ranking for speed."""
    report = {"torch": {"macro_roc_auc": macro_roc_auc(torch_probs, val.matrix.y, val.matrix.mask)}}
    for runtime, file in (("onnx", ONNX_FILE), ("onnx-int8", INT8_FILE)):
        probs = OnnxModel(onnx[file]).predict(val.token_ids, val.pad_id, batch_size=64)
        report[runtime] = {
            "macro_roc_auc": macro_roc_auc(probs, val.matrix.y, val.matrix.mask),
            "max_abs_diff": float(np.abs(probs - torch_probs).max()),
        }
    return report


def calibration_report(thresholds: dict[str, LabelThreshold]) -> dict[str, Any]:
    return {
        name: {"threshold": t.threshold, "positives": t.positives, "calibrated": t.calibrated, "f1": t.f1}
        for name, t in thresholds.items()
    }


def probability_report(
    probs: np.ndarray, matrix: LabelMatrix, labels: Sequence[str], maps: dict[str, Any]
) -> dict[str, Any]:
    """Per label: how far the served probabilities are from observed frequencies (ECE, Brier)
    on these rows, and the map that made them."""
    report = {}
    for j, name in enumerate(labels):
        known = matrix.mask[:, j] > 0
        if known.sum() and matrix.y[known, j].sum() > 0:
            error = calibration_error(probs[known, j], matrix.y[known, j] > 0.5)
            report[name] = {"map": maps[name].method, "ece": error["ece"], "brier": error["brier"]}
    return report
