"""New thresholds for a trained model from newer labelled data, without retraining."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training.artifacts import derive_artifact
from training.calibration import calibrate_thresholds
from training.config import TrainConfig
from training.data import DataError, Example, canonical_order, data_hash, label_matrix
from training.evaluation import evaluate_both
from training.inference import Scorer
from training.report import calibration_report


@dataclass(frozen=True)
class RecalibrationOutcome:
    artifact_path: Path
    thresholds: dict[str, float]
    metrics: dict[str, Any]  # the parent's, plus a "recalibration" entry
    data_hash: str
    size: int


def recalibrate(
    artifact_path: str | Path,
    examples: Sequence[Example],
    current_thresholds: dict[str, float],
    *,
    out_dir: str | Path,
    name: str,
    context: dict[str, Any] | None = None,
    root: str | Path | None = None,
) -> RecalibrationOutcome:
    """New thresholds for an existing model from newer labelled data, without retraining,
    written as a new artifact `out_dir/name` that shares the parent's weights. The threshold
    floor and minimum positives are the parent run's own settings.

    A label with too few positives in the new data keeps its current threshold. Before/after
    metrics are measured on the same new data the thresholds were chosen on, so `after` is an
    optimistic estimate; the comparison still shows which labels moved and by how much.
    `context` (what data was used) is recorded with them.
    """
    scorer = Scorer(artifact_path, root=root, threads=os.cpu_count() or 1)
    parent = TrainConfig.from_mapping(scorer.artifact.config["training"])
    labels = scorer.labels
    examples = canonical_order(examples)
    matrix = label_matrix(examples, labels)
    if not len(matrix):
        raise DataError("no labelled comments to recalibrate on")
    probs = scorer.score([example.text for example in examples])
    chosen = calibrate_thresholds(
        probs,
        matrix.y,
        matrix.mask,
        labels,
        floor=parent.threshold_floor,
        min_positives=parent.min_calibration_positives,
    )
    thresholds = {
        name: t.threshold if t.calibrated else current_thresholds.get(name, t.threshold) for name, t in chosen.items()
    }
    digest = data_hash(examples)
    metrics = {
        **scorer.artifact.metrics(),
        "recalibration": {
            "before": evaluate_both(probs, matrix.y, matrix.mask, labels, current_thresholds),
            "after": evaluate_both(probs, matrix.y, matrix.mask, labels, thresholds),
            "calibration": calibration_report(chosen),
            "size": len(examples),
            "evaluated_on": "the recalibration data",
            **(context or {}),
        },
    }
    path = derive_artifact(
        scorer.artifact.path,
        Path(out_dir),
        name,
        thresholds=thresholds,
        metrics=metrics,
        manifest={
            **scorer.artifact.manifest,
            "name": name,
            "parent": scorer.artifact.path.name,
            "recalibration_data_hash": digest,
            "created_at": datetime.now(UTC).isoformat(),
        },
    )
    return RecalibrationOutcome(path, thresholds, metrics, digest, len(examples))
