"""data → model → loop → calibrate → evaluate → artifact, as one function."""

import copy
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import tokenizers
import torch
import transformers

from training.artifacts import derive_artifact, write_artifact
from training.base_models import load_base_model
from training.baseline import TfidfBaseline
from training.batches import EncodedDataset
from training.calibration import (
    LabelThreshold,
    apply_probability_maps,
    blend_parts,
    calibrate_thresholds,
    calibration_error,
    fit_probability_maps,
    threshold_values,
)
from training.config import TrainConfig
from training.data import (
    Example,
    LabelMatrix,
    canonical_order,
    data_hash,
    iterative_stratified_folds,
    label_matrix,
    train_val_split,
)
from training.distillation import teacher_targets
from training.evaluation import evaluate_both, macro_roc_auc
from training.heldout import heldout_record
from training.inference import Scorer, encode
from training.loop import fit, predict
from training.model import MultiLabelClassifier
from training.onnx_model import INT8_FILE, ONNX_FILE, OnnxModel, export_onnx
from training.progress import Progress, ProgressCallback

MIN_EXAMPLES = 20


class DataError(ValueError):
    """The labelled data cannot train a model (too little, or no label with both classes)."""


@dataclass(frozen=True)
class TrainingOutcome:
    artifact_path: Path
    thresholds: dict[str, float]
    metrics: dict
    data_hash: str
    train_size: int
    val_size: int
    base_model: str


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_trainable(matrix: LabelMatrix, labels: Sequence[str]) -> None:
    if len(matrix) < MIN_EXAMPLES:
        raise DataError(f"{len(matrix)} labelled comments; at least {MIN_EXAMPLES} are needed to train")
    known = matrix.mask.sum(axis=0)
    positives = matrix.positives()
    if not any(0 < p < k for p, k in zip(positives, known, strict=True)):
        raise DataError(f"no label among {list(labels)} has both positive and negative examples")


def served_forms_report(onnx: dict[str, bytes], val: EncodedDataset, torch_probs: np.ndarray) -> dict:
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


def calibration_report(thresholds: dict[str, LabelThreshold]) -> dict:
    return {
        name: {"threshold": t.threshold, "positives": t.positives, "calibrated": t.calibrated, "f1": t.f1}
        for name, t in thresholds.items()
    }


def probability_report(probs: np.ndarray, matrix: LabelMatrix, labels: Sequence[str], maps: dict) -> dict:
    """Per label: how far the served probabilities are from observed frequencies (ECE, Brier)
    on these rows, and the map that made them."""
    report = {}
    for j, name in enumerate(labels):
        known = matrix.mask[:, j] > 0
        if known.sum() and matrix.y[known, j].sum() > 0:
            error = calibration_error(probs[known, j], matrix.y[known, j] > 0.5)
            report[name] = {"map": maps[name].method, "ece": error["ece"], "brier": error["brier"]}
    return report


def calibrate_for(config: TrainConfig, probs: np.ndarray, matrix: LabelMatrix) -> dict[str, LabelThreshold]:
    return calibrate_thresholds(
        probs,
        matrix.y,
        matrix.mask,
        config.labels,
        floor=config.threshold_floor,
        min_positives=config.min_calibration_positives,
    )


def out_of_fold(matrix: LabelMatrix, config: TrainConfig, fold_predict) -> np.ndarray:
    """A prediction for every row from a model that never saw it: `fold_predict(inside,
    held_out)` fits on the rows `inside` and returns probabilities for `held_out`."""
    folds = iterative_stratified_folds(matrix, config.calibration_folds, config.seed)
    probs = np.zeros_like(matrix.y)
    for k in range(config.calibration_folds):
        held_out = np.flatnonzero(folds == k)
        probs[held_out] = fold_predict(np.flatnonzero(folds != k), held_out)
    return probs


def tfidf_baseline(
    config: TrainConfig,
    train_texts: Sequence[str],
    train_matrix: LabelMatrix,
    val_texts: Sequence[str],
    val_matrix: LabelMatrix,
    predict_texts: Sequence[str] | None = None,
    fitted: TfidfBaseline | None = None,
) -> tuple[np.ndarray, dict[str, LabelThreshold]]:
    """The TF-IDF baseline trained on the same split and calibrated the same way as the model
    (or `fitted`, one already trained on `train_texts`). Returns its probabilities for
    `predict_texts` (default: the validation texts) and thresholds."""
    baseline = fitted or TfidfBaseline(config.labels, config.seed).fit(train_texts, train_matrix)
    val_probs = baseline.predict_proba(val_texts)
    if config.calibration == "oof":

        def fold_predict(inside: np.ndarray, held_out: np.ndarray) -> np.ndarray:
            fold = TfidfBaseline(config.labels, config.seed).fit(
                [train_texts[i] for i in inside], train_matrix.subset(inside)
            )
            return fold.predict_proba([train_texts[i] for i in held_out])

        thresholds = calibrate_for(config, out_of_fold(train_matrix, config, fold_predict), train_matrix)
    else:
        thresholds = calibrate_for(config, val_probs, val_matrix)
    probs = val_probs if predict_texts is None else baseline.predict_proba(predict_texts)
    return probs, thresholds


def run_training(
    config: TrainConfig,
    examples: Sequence[Example],
    out_dir: str | Path,
    *,
    transfer_texts: Sequence[str] = (),
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> TrainingOutcome:
    """Train, calibrate, evaluate and write an artifact. With `config.teacher`, the student also
    learns the teacher's scores on its training rows and on `transfer_texts` (unlabelled text,
    training rows only): validation, calibration and evaluation use true labels alone."""
    timings = {}
    started = time.perf_counter()
    torch.set_num_threads(config.num_threads or os.cpu_count() or 1)
    seed_everything(config.seed)
    labels = list(config.labels)
    examples = canonical_order(examples)
    matrix = label_matrix(examples, labels)
    check_trainable(matrix, labels)
    digest = data_hash(examples)
    texts = [example.text for example in examples]
    train_index, val_index = train_val_split(matrix, config.val_fraction, config.seed)
    notify = on_progress or (lambda progress: None)
    notify(Progress("prepare", 0, 0, 0, 0))

    train_texts = [texts[i] for i in train_index]
    train_gold = matrix.subset(train_index)
    teacher = None
    if config.teacher:
        notify(Progress("teacher", 0, 0, 0, 0))
        teacher_started = time.perf_counter()
        known_texts = set(texts)
        extra = [text for text in dict.fromkeys(transfer_texts) if text not in known_texts]
        train_texts += extra
        unknown = np.zeros((len(extra), len(labels)), dtype=np.float32)
        gold = LabelMatrix(y=np.vstack([train_gold.y, unknown]), mask=np.vstack([train_gold.mask, unknown]))
        # The teacher scores with every thread training may use, as torch did.
        scorer = Scorer(config.teacher, threads=config.num_threads or os.cpu_count() or 1)
        teacher = teacher_targets(scorer, train_texts, gold, labels, weight=config.distill_weight)
        timings["teacher_s"] = time.perf_counter() - teacher_started

    base = load_base_model(config, train_texts)
    train = EncodedDataset(
        encode(base.tokenizer, train_texts, config.max_len), teacher.matrix if teacher else train_gold, base.pad_id
    )
    val = EncodedDataset(
        encode(base.tokenizer, [texts[i] for i in val_index], config.max_len), matrix.subset(val_index), base.pad_id
    )
    model = MultiLabelClassifier(base.encoder, len(labels), config.dropout)
    untrained = copy.deepcopy(model) if config.calibration == "oof" else None
    timings["prepare_s"] = time.perf_counter() - started

    fitted = fit(model, train, val, config, on_progress=on_progress)
    timings["train_s"] = fitted.seconds
    val_probs = predict(model, val, device=config.device)
    notify(Progress("export", fitted.best_epoch, config.max_epochs, 0, 0))
    export_started = time.perf_counter()
    onnx = export_onnx(model)
    served = served_forms_report(onnx, val, val_probs)
    timings["export_s"] = time.perf_counter() - export_started
    gold_texts, val_texts = [texts[i] for i in train_index], [texts[i] for i in val_index]
    tfidf, part_maps = None, {}
    if config.tfidf_blend:
        notify(Progress("tf-idf", fitted.best_epoch, config.max_epochs, 0, 0))
        tfidf_started = time.perf_counter()
        tfidf = TfidfBaseline(labels, config.seed).fit(gold_texts, train_gold)
        parts = {"neural": val_probs, "tfidf": tfidf.predict_proba(val_texts)}
        # Platt only: each part's ranking must survive into the mean.
        part_maps = {
            name: fit_probability_maps(
                probs,
                val.matrix.y,
                val.matrix.mask,
                labels,
                min_positives=config.min_calibration_positives,
                methods=("platt",),
            )
            for name, probs in parts.items()
        }
        val_probs = blend_parts(parts["neural"], parts["tfidf"], part_maps, config.tfidf_blend, labels)
        timings["tfidf_s"] = time.perf_counter() - tfidf_started

    calibration_started = time.perf_counter()
    if config.calibration == "oof":

        def fold_predict(inside: np.ndarray, held_out: np.ndarray) -> np.ndarray:
            fold_model = copy.deepcopy(untrained)
            fit(
                fold_model,
                train.subset(inside),
                None,
                config,
                epochs=fitted.best_epoch,
                phase="calibrate folds",
                on_progress=on_progress,
            )
            return predict(fold_model, train.subset(held_out), device=config.device)

        calibration_probs, calibration_matrix = out_of_fold(train.matrix, config, fold_predict), train.matrix
    else:
        calibration_probs, calibration_matrix = val_probs, val.matrix
    # Scores become probabilities first; thresholds are then chosen on those probabilities.
    probability_maps = fit_probability_maps(
        calibration_probs,
        calibration_matrix.y,
        calibration_matrix.mask,
        labels,
        min_positives=config.min_calibration_positives,
    )
    mapped_val = apply_probability_maps(val_probs, probability_maps, labels)
    # Holdout calibrates on the validation predictions themselves: map them once.
    mapped_calibration = (
        mapped_val
        if calibration_probs is val_probs
        else apply_probability_maps(calibration_probs, probability_maps, labels)
    )
    thresholds = calibrate_for(config, mapped_calibration, calibration_matrix)
    val_probs = mapped_val
    timings["calibrate_s"] = time.perf_counter() - calibration_started
    model_metrics = evaluate_both(val_probs, val.matrix.y, val.matrix.mask, labels, threshold_values(thresholds))
    model_metrics["probabilities"] = probability_report(val_probs, val.matrix, labels, probability_maps)

    baseline_metrics = None
    if config.baseline:
        baseline_started = time.perf_counter()
        notify(Progress("baseline", fitted.best_epoch, config.max_epochs, 0, 0))
        baseline_val, baseline_thresholds = tfidf_baseline(
            config, gold_texts, train_gold, val_texts, val.matrix, fitted=tfidf
        )
        baseline_metrics = evaluate_both(
            baseline_val, val.matrix.y, val.matrix.mask, labels, threshold_values(baseline_thresholds)
        )
        timings["baseline_s"] = time.perf_counter() - baseline_started

    timings["total_s"] = time.perf_counter() - started
    notify(Progress("write", fitted.best_epoch, config.max_epochs, 0, 0))
    created_at = datetime.now(UTC)
    name = name or f"{created_at:%Y%m%d-%H%M%S}-{digest[:8]}"
    metrics = {
        "model": model_metrics,
        "baseline": baseline_metrics,
        "calibration": {
            "method": config.calibration,
            "labels": calibration_report(thresholds),
            "probability_maps": {name: m.method for name, m in probability_maps.items()},
        },
        "served_forms": served,
        "learning_curve": fitted.curve,
        "best_epoch": fitted.best_epoch,
        "split": {
            "train": len(train),
            "val": len(val),
            "val_positives": dict(zip(labels, val.matrix.positives().tolist(), strict=True)),
            "train_positives": dict(zip(labels, train_gold.positives().tolist(), strict=True)),
            "transfer": len(train) - len(train_gold),
        },
        "teacher": (
            {"name": teacher.teacher, "distilled": teacher.distilled, "weight": config.distill_weight}
            if teacher
            else None
        ),
        "timings": timings,
        "throughput": {
            "train_examples_per_s": fitted.examples_seen / fitted.seconds if fitted.seconds else None,
            "padding_efficiency": fitted.real_tokens / fitted.padded_tokens if fitted.padded_tokens else None,
            # What the same batches would waste if each were padded to max_len.
            "padding_efficiency_vs_max_len": (
                fitted.real_tokens / (fitted.examples_seen * config.max_len) if fitted.examples_seen else None
            ),
        },
    }
    artifact_config = {
        "labels": labels,
        "max_len": config.max_len,
        "pad_id": base.pad_id,
        "base_model": config.base_model,
        "base_model_description": base.description,
        "encoder": model.encoder.config.to_dict(),
        "training": config.to_dict(),
    }
    manifest = {
        "name": name,
        "labels": labels,
        "data_hash": digest,
        "seed": config.seed,
        "train_size": len(train),
        "val_size": len(val),
        "created_at": created_at.isoformat(),
        "teacher": {"name": teacher.teacher, "data_hash": teacher.teacher_data_hash} if teacher else None,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
        },
    }
    path = write_artifact(
        Path(out_dir),
        name,
        model=model.cpu(),
        tokenizer=base.tokenizer,
        config=artifact_config,
        thresholds=threshold_values(thresholds),
        probability_maps={
            "served": {name: m.to_dict() for name, m in probability_maps.items()},
            "parts": {part: {name: m.to_dict() for name, m in maps.items()} for part, maps in part_maps.items()},
        },
        tfidf=tfidf,
        onnx=onnx,
        metrics=metrics,
        validation=heldout_record([examples[i] for i in val_index], val_probs, labels, train_texts),
        manifest=manifest,
    )
    return TrainingOutcome(
        artifact_path=path,
        thresholds=threshold_values(thresholds),
        metrics=metrics,
        data_hash=digest,
        train_size=len(train),
        val_size=len(val),
        base_model=config.base_model,
    )


@dataclass(frozen=True)
class RecalibrationOutcome:
    artifact_path: Path
    thresholds: dict[str, float]
    metrics: dict  # the parent's, plus a "recalibration" entry
    data_hash: str
    size: int


def recalibrate(
    artifact_path: str | Path,
    examples: Sequence[Example],
    current_thresholds: dict[str, float],
    *,
    out_dir: str | Path,
    name: str,
    context: dict | None = None,
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


__all__ = ["DataError", "RecalibrationOutcome", "TrainingOutcome", "recalibrate", "run_training"]
