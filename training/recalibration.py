"""What a trained model gains without retraining: new thresholds from newer labelled data
(`recalibrate`), or a scoring cascade's band for a model made before cascades (`add_cascade`)."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training.artifacts import ArtifactError, derive_artifact
from training.calibration import apply_probability_maps, calibrate_thresholds
from training.cascade import AUC_LOSS_BUDGET, always_read, choose_band, trust_beside
from training.config import TrainConfig
from training.data import DataError, Example, canonical_order, data_hash, label_matrix
from training.evaluation import evaluate_both
from training.inference import Scorer
from training.normalise import normalise
from training.report import calibration_report
from training.validation_split import load_validation_split


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


def add_cascade(artifact_path: str | Path, *, out_dir: str | Path, name: str, budget: float = AUC_LOSS_BUDGET) -> Path:
    """A copy of an artifact made before cascades, sharing its files, with a band chosen on its
    own validation split scored as it is served (every window), and its bias and robustness
    reports with the cascade beside (metrics "cascade")."""
    scorer = Scorer(artifact_path, threads=os.cpu_count() or 1)
    if not scorer.tfidf_blend:
        raise ArtifactError(f"artifact {artifact_path} blends no bag of words: a cascade needs one")
    split = load_validation_split(artifact_path)
    labels = scorer.labels
    full, _, parts = scorer.score_with_parts(split.texts)
    assert parts is not None  # a blend has its parts
    bag = parts[:, :, 1]
    substitute = apply_probability_maps(bag, scorer.artifact.probability_maps, labels)
    substitute[:, [labels.index(label) for label in scorer.unlearned]] = 0.0
    read = [normalise(text, scorer.normaliser) for text in split.texts]
    band = choose_band(
        labels,
        full=full,
        substitute=substitute,
        tfidf=bag,
        guarded=always_read(split.texts, read),
        y=split.y,
        mask=split.mask,
    )
    if band is None:
        raise ArtifactError(f"no cascade band keeps the ranking of {artifact_path} within {budget}")
    metrics = {**scorer.artifact.metrics(), "cascade": band.to_dict()}
    thresholds = scorer.artifact.thresholds()
    if "toxic" in labels:
        cascaded = Scorer(artifact_path, threads=os.cpu_count() or 1)
        cascaded.band = band
        j = labels.index("toxic")
        is_toxic = (split.mask[:, j] > 0) & (split.y[:, j] > 0.5)
        metrics["cascade"]["trust"] = trust_beside(
            lambda texts: scorer.score(texts)[:, j],
            lambda texts: cascaded.score(texts)[:, j],
            [text for text, t in zip(split.texts, is_toxic, strict=True) if t],
            thresholds["toxic"],
        )
    return derive_artifact(
        scorer.artifact.path,
        Path(out_dir),
        name,
        thresholds=thresholds,
        metrics=metrics,
        manifest={**scorer.artifact.manifest, "name": name, "created_at": datetime.now(UTC).isoformat()},
        cascade=band,
    )
