"""One training run as its stages: data → split (+ augmentation of the training rows) → teacher →
tokenise → model → loop → export → blend → calibrate → evaluate → write. The models read each text
through the normaliser of `config.normaliser`; the artifact keeps the texts as they were. Each
stage is timed by `Stopwatch`; its figures are the artifact's metrics.json "timings"."""

import copy
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import tokenizers
import torch
import transformers

from training.artifacts import FORMAT, write_artifact
from training.augment import augment
from training.base_models import BaseModel, load_base_model
from training.batches import EncodedDataset, unlabelled
from training.calibration import (
    LabelThreshold,
    ProbabilityMap,
    apply_probability_maps,
    blend,
    blend_parts,
    calibrate_thresholds,
    fit_probability_maps,
    part_probabilities,
    threshold_values,
)
from training.cascade import Band, always_read, choose_band, trust_beside
from training.config import TrainConfig
from training.data import (
    DataError,
    Example,
    LabelMatrix,
    canonical_order,
    data_hash,
    iterative_stratified_folds,
    label_matrix,
    train_val_split,
)
from training.distillation import TeacherTargets, teacher_targets
from training.evaluation import evaluate_both
from training.fairness import bias_report, label_evidence, mentioned_terms, robustness_report, template_bias
from training.inference import Scorer, encode
from training.languages import language_counts
from training.loop import FitResult, fit, predict
from training.model import MultiLabelClassifier
from training.normalise import normalise
from training.onnx_model import export_onnx
from training.progress import Progress, ProgressCallback
from training.report import calibration_report, probability_report, served_forms_report
from training.tfidf import TfidfModel
from training.validation_split import validation_split_record

MIN_EXAMPLES = 20


@dataclass(frozen=True)
class TrainingOutcome:
    artifact_path: Path
    thresholds: dict[str, float]
    metrics: dict[str, Any]
    data_hash: str
    train_size: int
    val_size: int
    base_model: str


@dataclass
class Stopwatch:
    """Each stage's seconds as "<stage>_s", and "total_s" from the stopwatch's start."""

    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.timings[f"{name}_s"] = self.timings.get(f"{name}_s", 0.0) + time.perf_counter() - began

    def report(self) -> dict[str, float]:
        return {**self.timings, "total_s": time.perf_counter() - self.started}


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


def calibrate_for(config: TrainConfig, probs: np.ndarray, matrix: LabelMatrix) -> dict[str, LabelThreshold]:
    return calibrate_thresholds(
        probs,
        matrix.y,
        matrix.mask,
        config.labels,
        floor=config.threshold_floor,
        min_positives=config.min_calibration_positives,
    )


def out_of_fold(
    matrix: LabelMatrix, config: TrainConfig, fold_predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
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
    fitted: TfidfModel | None = None,
) -> tuple[np.ndarray, dict[str, LabelThreshold]]:
    """The TF-IDF baseline trained on the same split and calibrated the same way as the model
    (or `fitted`, one already trained on `train_texts`). Returns its probabilities for
    `predict_texts` (default: the validation texts) and thresholds."""
    baseline = fitted or TfidfModel(config.labels, config.seed).fit(train_texts, train_matrix)
    val_probs = baseline.predict_proba(val_texts)
    if config.calibration == "oof":

        def fold_predict(inside: np.ndarray, held_out: np.ndarray) -> np.ndarray:
            fold = TfidfModel(config.labels, config.seed).fit(
                [train_texts[i] for i in inside], train_matrix.subset(inside)
            )
            return fold.predict_proba([train_texts[i] for i in held_out])

        thresholds = calibrate_for(config, out_of_fold(train_matrix, config, fold_predict), train_matrix)
    else:
        thresholds = calibrate_for(config, val_probs, val_matrix)
    probs = val_probs if predict_texts is None else baseline.predict_proba(predict_texts)
    return probs, thresholds


def model_texts(config: TrainConfig, texts: Sequence[str]) -> list[str]:
    """What the models read: each text through the run's normaliser."""
    return [normalise(text, config.normaliser) for text in texts]


@dataclass(frozen=True)
class Split:
    """The labelled rows in canonical order, then the augmentation's rows (training only), and
    which of them train and which validate. `digest` is the labelled rows' hash."""

    examples: list[Example]
    matrix: LabelMatrix
    digest: str
    train_index: np.ndarray
    val_index: np.ndarray
    normaliser: int
    augmentation: dict[str, Any] | None = None

    def texts(self, index: np.ndarray) -> list[str]:
        return [self.examples[i].text for i in index]

    def read(self, index: np.ndarray) -> list[str]:
        """What the models read of those rows: normalised once per run, for every stage."""
        return [self._read[i] for i in index]

    @cached_property
    def _read(self) -> list[str]:
        return [normalise(example.text, self.normaliser) for example in self.examples]

    @property
    def train_gold(self) -> LabelMatrix:
        return self.matrix.subset(self.train_index)


@dataclass(frozen=True)
class Calibrated:
    probability_maps: dict[str, ProbabilityMap]
    thresholds: dict[str, LabelThreshold]
    val_probs: np.ndarray  # the validation split's served probabilities


def split_stage(config: TrainConfig, examples: Sequence[Example]) -> Split:
    examples = canonical_order(examples)
    matrix = label_matrix(examples, config.labels)
    check_trainable(matrix, config.labels)
    train_index, val_index = train_val_split(matrix, config.val_fraction, config.seed)
    if not config.augment:
        return Split(examples, matrix, data_hash(examples), train_index, val_index, config.normaliser)
    added, record = augment([examples[i] for i in train_index], seed=config.seed)
    held_out = {examples[i].text for i in val_index}
    added = [example for example in added if example.text not in held_out]
    record["total"] = len(added)
    extra = label_matrix(added, config.labels)
    return Split(
        [*examples, *added],
        LabelMatrix(y=np.vstack([matrix.y, extra.y]), mask=np.vstack([matrix.mask, extra.mask])),
        data_hash(examples),
        np.concatenate([train_index, np.arange(len(examples), len(examples) + len(added))]),
        val_index,
        config.normaliser,
        record,
    )


def teacher_stage(
    config: TrainConfig, split: Split, transfer_texts: Sequence[str]
) -> tuple[list[str], TeacherTargets | None]:
    """The student's training texts (its rows, then the transfer texts it has not seen) and,
    with a teacher, the teacher's scores on all of them."""
    train_texts = split.texts(split.train_index)
    if not config.teacher:
        return train_texts, None
    known = {example.text for example in split.examples}
    extra = [text for text in dict.fromkeys(transfer_texts) if text not in known]
    unknown = np.zeros((len(extra), len(config.labels)), dtype=np.float32)
    gold = split.train_gold
    gold = LabelMatrix(y=np.vstack([gold.y, unknown]), mask=np.vstack([gold.mask, unknown]))
    # The teacher scores with every thread training may use, as torch did.
    scorer = Scorer(config.teacher, threads=config.num_threads or os.cpu_count() or 1)
    texts = train_texts + extra
    return texts, teacher_targets(scorer, texts, gold, config.labels, weight=config.distill_weight)


def tokenise_stage(
    config: TrainConfig, split: Split, train_texts: list[str], teacher: TeacherTargets | None
) -> tuple[BaseModel, EncodedDataset, EncodedDataset]:
    """The base encoder and tokeniser (`scratch` learns its vocabulary from `train_texts`), and
    both parts of the split, tokenised once."""
    # The split's own rows, then the teacher's transfer texts.
    read = split.read(split.train_index) + model_texts(config, train_texts[len(split.train_index) :])
    base = load_base_model(config, read)
    train = EncodedDataset(
        encode(base.tokenizer, read, config.max_len),
        teacher.matrix if teacher else split.train_gold,
        base.pad_id,
    )
    val_ids = encode(base.tokenizer, split.read(split.val_index), config.max_len)
    return base, train, EncodedDataset(val_ids, split.matrix.subset(split.val_index), base.pad_id)


def blend_stage(
    config: TrainConfig, split: Split, val: EncodedDataset, val_probs: np.ndarray
) -> tuple[TfidfModel | None, dict[str, Any], np.ndarray]:
    """With `tfidf_blend`, the TF-IDF part fitted on the gold training rows, each part's Platt
    maps, and the blended validation scores; without it, the transformer's scores alone."""
    if not config.tfidf_blend:
        return None, {}, val_probs
    tfidf = TfidfModel(config.labels, config.seed).fit(split.read(split.train_index), split.train_gold)
    parts = {"neural": val_probs, "tfidf": tfidf.predict_proba(split.read(split.val_index))}
    # Platt only: each part's ranking must survive into the mean.
    part_maps = {
        name: fit_probability_maps(
            probs,
            val.matrix.y,
            val.matrix.mask,
            config.labels,
            min_positives=config.min_calibration_positives,
            methods=("platt",),
        )
        for name, probs in parts.items()
    }
    return tfidf, part_maps, blend_parts(parts["neural"], parts["tfidf"], part_maps, config.tfidf_blend, config.labels)


def calibrate_stage(
    config: TrainConfig,
    train: EncodedDataset,
    val: EncodedDataset,
    val_probs: np.ndarray,
    *,
    untrained: MultiLabelClassifier | None,
    epochs: int,
    on_progress: ProgressCallback | None,
) -> Calibrated:
    """Scores become probabilities first; thresholds are then chosen on those probabilities.
    Holdout calibrates on the validation split; "oof" on out-of-fold scores of the training
    rows, from copies of the untrained model fitted for the best epoch count."""
    if config.calibration == "oof":

        def fold_predict(inside: np.ndarray, held_out: np.ndarray) -> np.ndarray:
            fold_model = copy.deepcopy(untrained)
            fit(
                fold_model,
                train.subset(inside),
                None,
                config,
                epochs=epochs,
                phase="calibrate folds",
                on_progress=on_progress,
            )
            return predict(fold_model, train.subset(held_out), device=config.device)

        probs, matrix = out_of_fold(train.matrix, config, fold_predict), train.matrix
    else:
        probs, matrix = val_probs, val.matrix
    maps = fit_probability_maps(
        probs, matrix.y, matrix.mask, config.labels, min_positives=config.min_calibration_positives
    )
    mapped_val = apply_probability_maps(val_probs, maps, config.labels)
    # Holdout calibrates on the validation predictions themselves: map them once.
    mapped = mapped_val if probs is val_probs else apply_probability_maps(probs, maps, config.labels)
    return Calibrated(maps, calibrate_for(config, mapped, matrix), mapped_val)


def evaluate_stage(
    config: TrainConfig, split: Split, val: EncodedDataset, calibrated: Calibrated, tfidf: TfidfModel | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The model's metrics on the validation split, and with `config.baseline` the TF-IDF
    baseline's, trained and calibrated on the same split."""
    labels = config.labels
    model = evaluate_both(
        calibrated.val_probs, val.matrix.y, val.matrix.mask, labels, threshold_values(calibrated.thresholds)
    )
    model["probabilities"] = probability_report(calibrated.val_probs, val.matrix, labels, calibrated.probability_maps)
    if not config.baseline:
        return model, None
    baseline_val, baseline_thresholds = tfidf_baseline(
        config,
        split.read(split.train_index),
        split.train_gold,
        split.read(split.val_index),
        val.matrix,
        fitted=tfidf,
    )
    return model, evaluate_both(
        baseline_val, val.matrix.y, val.matrix.mask, labels, threshold_values(baseline_thresholds)
    )


def served_scores(
    config: TrainConfig,
    base: BaseModel,
    model: MultiLabelClassifier,
    tfidf: TfidfModel | None,
    part_maps: dict[str, Any],
    calibrated: Calibrated,
    texts: Sequence[str],
    band: Band | None = None,
) -> np.ndarray:
    """The new model's served probabilities for `texts` (their first window, as validation
    reads them): normalised, the transformer, the TF-IDF blend, the probability maps; with a
    cascade `band`, the bag of words standing in for the transformer where it is sure."""
    read = model_texts(config, texts)
    encoded = unlabelled(encode(base.tokenizer, read, config.max_len), len(config.labels), base.pad_id)
    raw = predict(model, encoded, device=config.device)
    if tfidf is not None:
        neural, bag = part_probabilities(raw, tfidf.predict_proba(read), part_maps, config.labels)
        if band is not None:
            skip = band.skipped(texts, read, bag, config.labels)
            neural[skip] = bag[skip]
        raw = blend(neural, bag, config.tfidf_blend)
    return apply_probability_maps(raw, calibrated.probability_maps, config.labels)


def cascade_stage(
    config: TrainConfig,
    split: Split,
    val: EncodedDataset,
    calibrated: Calibrated,
    base: BaseModel,
    model: MultiLabelClassifier,
    tfidf: TfidfModel | None,
    part_maps: dict[str, Any],
) -> tuple[Band | None, dict[str, Any] | None]:
    """With a TF-IDF blend, the cascade's band, chosen on the validation split
    (training/cascade.py), and its figures for metrics "cascade": the band, and with a `toxic`
    label the bias and robustness figures with and without it."""
    if tfidf is None:
        return None, None
    labels = list(config.labels)
    read = split.read(split.val_index)
    bag = apply_probability_maps(tfidf.predict_proba(read), part_maps["tfidf"], labels)
    band = choose_band(
        labels,
        full=calibrated.val_probs,
        substitute=apply_probability_maps(bag, calibrated.probability_maps, labels),
        tfidf=bag,
        guarded=always_read(split.texts(split.val_index), read),
        y=val.matrix.y,
        mask=val.matrix.mask,
    )
    if band is None or "toxic" not in labels:
        return band, band.to_dict() if band else None
    j = labels.index("toxic")
    toxic = (val.matrix.mask[:, j] > 0) & (val.matrix.y[:, j] > 0.5)

    def toxic_scores(cascaded: Band | None) -> Callable[[list[str]], np.ndarray]:
        return lambda texts: served_scores(config, base, model, tfidf, part_maps, calibrated, texts, cascaded)[:, j]

    trust = trust_beside(
        toxic_scores(None),
        toxic_scores(band),
        [text for text, t in zip(split.texts(split.val_index), toxic, strict=True) if t],
        calibrated.thresholds["toxic"].threshold,
        seed=config.seed,
    )
    return band, {**band.to_dict(), "trust": trust}


def trust_stage(
    config: TrainConfig,
    split: Split,
    val: EncodedDataset,
    calibrated: Calibrated,
    score_texts: Callable[[list[str]], np.ndarray],
) -> dict[str, Any]:
    """Each label's evidence; and, for a model with a `toxic` label, the bias report (on this
    project's identity templates and on the validation split) and the robustness report (the
    validation split's toxic comments, disguised), at the served toxic threshold."""
    labels = list(config.labels)
    train = split.matrix.subset(split.train_index)
    labelled = split.train_index < len(split.examples) - (split.augmentation or {}).get("total", 0)
    gold = split.matrix.subset(split.train_index[labelled]).positives()
    evidence = label_evidence(
        labels, gold, train.positives() - gold, calibrated.val_probs, val.matrix.y, val.matrix.mask, seed=config.seed
    )
    if "toxic" not in labels:
        return {"evidence": evidence, "bias": None, "robustness": None}
    j = labels.index("toxic")
    threshold = calibrated.thresholds["toxic"].threshold

    def toxic_scores(texts: list[str]) -> np.ndarray:
        scores: np.ndarray = score_texts(texts)[:, j]
        return scores

    known = val.matrix.mask[:, j] > 0
    val_texts = [text for text, k in zip(split.texts(split.val_index), known, strict=True) if k]
    val_toxic = val.matrix.y[known, j] > 0.5
    return {
        "evidence": evidence,
        "bias": {
            "templates": template_bias(toxic_scores, threshold),
            "validation": bias_report(
                calibrated.val_probs[known, j], val_toxic, [mentioned_terms(t) for t in val_texts], threshold
            ),
        },
        "robustness": robustness_report(
            toxic_scores,
            [t for t, toxic in zip(val_texts, val_toxic, strict=True) if toxic],
            threshold,
            seed=config.seed,
        ),
    }


def run_metrics(
    config: TrainConfig,
    split: Split,
    train: EncodedDataset,
    val: EncodedDataset,
    fitted: FitResult,
    teacher: TeacherTargets | None,
    evaluation: tuple[dict[str, Any], dict[str, Any] | None],
    calibrated: Calibrated,
    served: dict[str, Any],
) -> dict[str, Any]:
    """metrics.json, less its timings."""
    labels = config.labels
    return {
        "model": evaluation[0],
        "baseline": evaluation[1],
        "calibration": {
            "method": config.calibration,
            "labels": calibration_report(calibrated.thresholds),
            "probability_maps": {name: m.method for name, m in calibrated.probability_maps.items()},
        },
        "served_forms": served,
        "learning_curve": fitted.curve,
        "best_epoch": fitted.best_epoch,
        "split": {
            "train": len(train),
            "val": len(val),
            "val_positives": dict(zip(labels, val.matrix.positives().tolist(), strict=True)),
            "train_positives": dict(zip(labels, split.train_gold.positives().tolist(), strict=True)),
            "transfer": len(train) - len(split.train_index),
            "augmented": (split.augmentation or {}).get("total", 0),
        },
        "augmentation": split.augmentation,
        "teacher": (
            {"name": teacher.teacher, "distilled": teacher.distilled, "weight": config.distill_weight}
            if teacher
            else None
        ),
        "throughput": {
            "train_examples_per_s": fitted.examples_seen / fitted.seconds if fitted.seconds else None,
            "padding_efficiency": fitted.real_tokens / fitted.padded_tokens if fitted.padded_tokens else None,
            # What the same batches would waste if each were padded to max_len.
            "padding_efficiency_vs_max_len": (
                fitted.real_tokens / (fitted.examples_seen * config.max_len) if fitted.examples_seen else None
            ),
        },
    }


def write_stage(
    config: TrainConfig,
    out_dir: Path,
    name: str | None,
    *,
    split: Split,
    base: BaseModel,
    model: MultiLabelClassifier,
    train_texts: list[str],
    teacher: TeacherTargets | None,
    tfidf: TfidfModel | None,
    part_maps: dict[str, Any],
    calibrated: Calibrated,
    onnx: dict[str, bytes],
    metrics: dict[str, Any],
    band: Band | None,
) -> Path:
    created_at = datetime.now(UTC)
    name = name or f"{created_at:%Y%m%d-%H%M%S}-{split.digest[:8]}"
    labels = list(config.labels)
    manifest = {
        "name": name,
        "labels": labels,
        "data_hash": split.digest,
        "seed": config.seed,
        "train_size": metrics["split"]["train"],
        "val_size": metrics["split"]["val"],
        "created_at": created_at.isoformat(),
        "teacher": {"name": teacher.teacher, "data_hash": teacher.teacher_data_hash} if teacher else None,
        "format": FORMAT,
        "normaliser": config.normaliser,
        "augmentation": split.augmentation,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
        },
    }
    return write_artifact(
        out_dir,
        name,
        model=model.cpu(),
        tokenizer=base.tokenizer,
        config={
            "labels": labels,
            "max_len": config.max_len,
            "pad_id": base.pad_id,
            "base_model": config.base_model,
            "base_model_description": base.description,
            "encoder": model.encoder.config.to_dict(),
            "training": config.to_dict(),
        },
        thresholds=threshold_values(calibrated.thresholds),
        probability_maps={
            "served": {label: m.to_dict() for label, m in calibrated.probability_maps.items()},
            "parts": {part: {label: m.to_dict() for label, m in maps.items()} for part, maps in part_maps.items()},
        },
        tfidf=tfidf,
        onnx=onnx,
        metrics=metrics,
        validation=validation_split_record(
            [split.examples[i] for i in split.val_index], calibrated.val_probs, labels, train_texts
        ),
        manifest=manifest,
        cascade=band,
    )


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
    clock = Stopwatch()
    notify = on_progress or (lambda progress: None)
    torch.set_num_threads(config.num_threads or os.cpu_count() or 1)
    seed_everything(config.seed)
    with clock.stage("split"):
        split = split_stage(config, examples)
    notify(Progress("prepare", 0, 0, 0, 0))
    if config.teacher:
        notify(Progress("teacher", 0, 0, 0, 0))
    with clock.stage("teacher"):
        train_texts, teacher = teacher_stage(config, split, transfer_texts)
    with clock.stage("tokenise"):
        base, train, val = tokenise_stage(config, split, train_texts, teacher)
    with clock.stage("model"):
        model = MultiLabelClassifier(base.encoder, len(config.labels), config.dropout)
        untrained = copy.deepcopy(model) if config.calibration == "oof" else None
    with clock.stage("train"):
        fitted = fit(model, train, val, config, on_progress=on_progress)
        val_probs = predict(model, val, device=config.device)
    notify(Progress("export", fitted.best_epoch, config.max_epochs, 0, 0))
    with clock.stage("export"):
        onnx = export_onnx(model)
        served = served_forms_report(onnx, val, val_probs)
    if config.tfidf_blend:
        notify(Progress("tf-idf", fitted.best_epoch, config.max_epochs, 0, 0))
    with clock.stage("blend"):
        tfidf, part_maps, val_probs = blend_stage(config, split, val, val_probs)
    notify(Progress("calibrate", fitted.best_epoch, config.max_epochs, 0, 0))
    with clock.stage("calibrate"):
        calibrated = calibrate_stage(
            config, train, val, val_probs, untrained=untrained, epochs=fitted.best_epoch, on_progress=on_progress
        )
    notify(Progress("evaluate", fitted.best_epoch, config.max_epochs, 0, 0))
    with clock.stage("evaluate"):
        evaluation = evaluate_stage(config, split, val, calibrated, tfidf)
    with clock.stage("trust"):
        trust = trust_stage(
            config,
            split,
            val,
            calibrated,
            lambda texts: served_scores(config, base, model, tfidf, part_maps, calibrated, texts),
        )
    with clock.stage("cascade"):
        band, cascade = cascade_stage(config, split, val, calibrated, base, model, tfidf, part_maps)
    notify(Progress("write", fitted.best_epoch, config.max_epochs, 0, 0))
    metrics = run_metrics(config, split, train, val, fitted, teacher, evaluation, calibrated, served) | trust
    metrics["cascade"] = cascade
    # The languages of the labelled rows (given, else detected; "" unknown): which languages
    # the version can serve.
    metrics["languages"] = language_counts([e.text for e in examples], [e.language for e in examples])
    metrics["timings"] = clock.report()
    path = write_stage(
        config,
        Path(out_dir),
        name,
        split=split,
        base=base,
        model=model,
        train_texts=train_texts,
        teacher=teacher,
        tfidf=tfidf,
        part_maps=part_maps,
        calibrated=calibrated,
        onnx=onnx,
        metrics=metrics,
        band=band,
    )
    return TrainingOutcome(
        artifact_path=path,
        thresholds=threshold_values(calibrated.thresholds),
        metrics=metrics,
        data_hash=split.digest,
        train_size=len(train),
        val_size=len(val),
        base_model=config.base_model,
    )


__all__ = ["DataError", "TrainingOutcome", "run_training"]
