"""Reads for the admins' model pages: comparisons, shadow disagreement, threshold simulation,
training progress."""

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from moderation.engine.analysis import comment_languages, decide_routes
from moderation.engine.config import routing_config
from moderation.engine.scoring import scorer_for, serving_key
from moderation.models import AuditEvent, Comment, Decision, ModelVersion, Prediction, TrainingRun
from moderation.selectors import training_data
from moderation.storage import artifact_materialise
from training.artifacts import ArtifactError
from training.data import LabelMatrix, canonical_order, data_hash, label_matrix
from training.evaluation import evaluate, macro_roc_auc
from training.fairness import bias_report, mentioned_terms
from training.inference import by_label
from training.validation_split import FILE as VALIDATION_FILE
from training.validation_split import ValidationSplit, load_validation_split, text_key, threshold_outcome

logger = logging.getLogger(__name__)

EVALUATION_SET_CACHE_S = 300
# What the model pages get for a comparison not measured yet: a worker measures it
# (services.model_versions.model_version_measure), never the request.
PENDING = "pending"


def validation_split_of(version: ModelVersion) -> ValidationSplit | None:
    """The version's validation split; None for an artifact made before it was kept, or one the
    store cannot give (logged: the pages show the version without its split's figures)."""
    try:
        path = artifact_materialise(version)
    except ArtifactError as exc:
        logger.warning("model version %s: no validation split (%s)", version.name, exc)
        return None
    if not (path / VALIDATION_FILE).is_file():
        return None
    return load_validation_split(path)


@dataclass(frozen=True)
class LabelComparison:
    label: str
    candidate_f1: float | None
    active_f1: float | None
    candidate_auc: float | None
    active_auc: float | None


@dataclass(frozen=True)
class Comparison:
    candidate: str
    active: str
    examples: int
    excluded: int  # evaluation-set comments either version trained on, left out
    per_label: list[LabelComparison]
    candidate_macro_f1: float | None
    active_macro_f1: float | None
    route_changes: int  # of `examples`, routed differently by the two
    traffic_examples: int
    traffic_route_changes: int

    # The gate's allowances are read when it is asked, so a cached comparison follows the
    # settings of the moment.
    @property
    def margin(self) -> float:
        return settings.TOXISCOPE_PROMOTION_MARGIN

    @property
    def max_reroute(self) -> float:
        return settings.TOXISCOPE_PROMOTION_MAX_REROUTE

    @property
    def label_margin(self) -> float:
        return settings.TOXISCOPE_PROMOTION_LABEL_MARGIN

    @property
    def gate_failures(self) -> list[str]:
        """Each way the candidate falls short, in words: macro-F1, any one label's F1, and how
        much of the traffic (else of the evaluation set) it would route differently."""
        failures = []
        if (
            self.candidate_macro_f1 is not None
            and self.active_macro_f1 is not None
            and self.candidate_macro_f1 < self.active_macro_f1 - self.margin
        ):
            failures.append(
                f"macro-F1 {self.candidate_macro_f1:.3f} against the active {self.active_macro_f1:.3f} "
                f"on {self.examples} evaluation-set comments (allowed margin {self.margin:.3f})"
            )
        for row in self.per_label:
            known = row.candidate_f1 is not None and row.active_f1 is not None
            if known and row.candidate_f1 < row.active_f1 - self.label_margin:
                failures.append(
                    f"{row.label} F1 {row.candidate_f1:.3f} against the active {row.active_f1:.3f} "
                    f"(allowed margin {self.label_margin:.3f})"
                )
        changed, of, where = (
            (self.traffic_route_changes, self.traffic_examples, "recent comments")
            if self.traffic_examples
            else (self.route_changes, self.examples, "evaluation-set comments")
        )
        if of and changed / of > self.max_reroute:
            failures.append(
                f"{changed} of {of} {where} ({changed / of:.0%}) would be routed differently "
                f"(allowed {self.max_reroute:.0%})"
            )
        return failures

    @property
    def gate_passes(self) -> bool:
        return not self.gate_failures


def final_bias_metric(version: ModelVersion) -> float | None:
    """The version's final bias metric on this project's identity templates (its training
    measured it: training/fairness.py), or None for a version made before it was measured."""
    return ((version.metrics.get("bias") or {}).get("templates") or {}).get("final_bias_metric")


def quality_gate_failure(comparison: Comparison | None) -> str | None:
    """Why a comparison fails the quality gate (Comparison.gate_failures, joined), or None
    when it passes or nothing could be compared."""
    if comparison is None or comparison.gate_passes:
        return None
    return "; ".join(comparison.gate_failures)


def bias_gate_failure(*, candidate: ModelVersion, active: ModelVersion) -> str | None:
    """Why the candidate fails the bias gate (its final bias metric more than
    TOXISCOPE_BIAS_MARGIN below the active version's), or None when it passes or either
    version was never measured."""
    candidate_bias, active_bias = final_bias_metric(candidate), final_bias_metric(active)
    if candidate_bias is None or active_bias is None:
        return None
    margin = settings.TOXISCOPE_BIAS_MARGIN
    if candidate_bias >= active_bias - margin:
        return None
    return (
        f"final bias metric {candidate_bias:.3f} against the active {active_bias:.3f} "
        f"on the identity templates (allowed margin {margin:.3f})"
    )


def _routes(score_rows: list[dict[str, float]], version: ModelVersion, sources: list[str]) -> list[tuple]:
    decisions = decide_routes(
        scores=score_rows, thresholds=version.thresholds, sources=sources, unreliable=version.unreliable_labels
    )
    return [(decision.action, decision.queue) for decision in decisions]


def _evaluation_rows(labels: list[str]) -> tuple[list[str], LabelMatrix, str, list[str]]:
    """The evaluation set's texts, known labels, digest and languages (the comments', "" where
    unknown); cached a few minutes per process (loading every annotation per page view would be
    wasteful; the set changes slowly)."""
    key = f"evaluation-set:v2:{','.join(labels)}"
    cached = cache.get(key)
    if cached is None:
        examples = canonical_order(training_data.evaluation_examples(labels=labels))
        cached = (
            [e.text for e in examples],
            label_matrix(examples, labels),
            data_hash(examples),
            [e.language for e in examples],
        )
        cache.set(key, cached, EVALUATION_SET_CACHE_S)
    return cached


# A language needs this many evaluation comments for its own ROC-AUC on the version page.
LANGUAGE_MIN_EVALUATED = 30


def _by_language(texts: list[str], given: list[str], scores: np.ndarray, matrix: LabelMatrix) -> dict[str, dict]:
    """Macro ROC-AUC per language (the comment's, else detected) with enough comments."""
    languages = comment_languages(texts, given)
    by_language = {}
    for language in sorted(set(languages) - {""}):
        rows = np.array([found == language for found in languages])
        if rows.sum() >= LANGUAGE_MIN_EVALUATED:
            subset = matrix.subset(np.flatnonzero(rows))
            by_language[language] = {
                "examples": int(rows.sum()),
                "macro_auc": macro_roc_auc(scores[rows], subset.y, subset.mask) or None,
            }
    return by_language


def _trained_on(version: ModelVersion) -> frozenset[str]:
    validation = validation_split_of(version)
    return validation.train_text_keys if validation else frozenset()


def _scores(version: ModelVersion, texts: list[str], labels: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, len(labels)), dtype=np.float32)
    return scorer_for(version).score(texts)[:, [version.labels.index(label) for label in labels]]


def _kept(texts: list[str], trained: frozenset[str]) -> np.ndarray:
    return np.array([text_key(text) not in trained for text in texts], dtype=bool)


def _digest(values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Evaluation:
    """A version on the evaluation set (less any comment it trained on, for versions made
    before the set existed): what the models list, comparisons and the gate all show."""

    examples: int
    figures: dict  # training.evaluation.evaluate at the version's thresholds
    macro_auc: float | None
    bias: dict | None = None  # training.fairness.bias_report on the toxic label, where known
    by_language: dict | None = None  # language -> examples, macro_auc (_by_language)


def version_evaluation(version: ModelVersion, *, compute: bool = True) -> Evaluation | None:
    """None while no labelled comment of the version's labels is in the evaluation set (or,
    with `compute` false, while the version has not been measured yet: no scoring then)."""
    labels = list(version.labels)
    texts, matrix, digest, languages = _evaluation_rows(labels)
    key = f"evaluation:{_digest([*serving_key(version), version.thresholds, digest])}"
    cached = cache.get(key)
    if cached is not None or not compute:
        return cached
    keep = _kept(texts, _trained_on(version))
    if not keep.any():
        return None
    texts, matrix = [t for t, k in zip(texts, keep, strict=True) if k], matrix.subset(np.flatnonzero(keep))
    languages = [language for language, k in zip(languages, keep, strict=True) if k]
    try:
        scores = _scores(version, texts, labels)
    except (ArtifactError, OSError):
        return None  # the page shows no figures; promoting it fails with the reason
    figures = evaluate(scores, matrix.y, matrix.mask, labels, version.thresholds)
    evaluation = Evaluation(
        len(texts),
        figures,
        macro_roc_auc(scores, matrix.y, matrix.mask) or None,
        _evaluation_bias(version, texts, scores, matrix, labels),
        _by_language(texts, languages, scores, matrix),
    )
    cache.set(key, evaluation, 24 * 3600)
    return evaluation


@dataclass(frozen=True)
class EvaluationReference:
    """What a version read on the evaluation set, as drift's reference: the texts' languages
    (given, else detected; "" unknown), its scores, the texts' lengths and the share of their
    words outside its vocabulary (of their first REFERENCE_CHARS, as drift reads live ones)."""

    languages: list[str]
    scores: np.ndarray  # (texts, version.labels)
    lengths: np.ndarray  # each whole text's length in characters
    vocabulary_miss: float


REFERENCE_CHARS = 2000  # enough of a comment to read its words; its length is kept whole


def evaluation_reference(version: ModelVersion) -> EvaluationReference | None:
    """None while the evaluation set holds no comment the version did not train on. Scores and
    reads the set once a day (cached): for a worker, never a request."""
    labels = list(version.labels)
    texts, _, digest, languages = _evaluation_rows(labels)
    key = f"evaluation-reference:{_digest([*serving_key(version), digest])}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    keep = _kept(texts, _trained_on(version))
    if not keep.any():
        return None
    texts = [text for text, k in zip(texts, keep, strict=True) if k]
    languages = [language for language, k in zip(languages, keep, strict=True) if k]
    reference = EvaluationReference(
        comment_languages(texts, languages),
        _scores(version, texts, labels),
        np.array([len(text) for text in texts]),
        scorer_for(version).vocabulary_miss_share([text[:REFERENCE_CHARS] for text in texts]),
    )
    cache.set(key, reference, 24 * 3600)
    return reference


def _evaluation_bias(
    version: ModelVersion, texts: list[str], scores: np.ndarray, matrix: LabelMatrix, labels: list[str]
) -> dict | None:
    """The bias report on the evaluation set's comments whose toxic label is known."""
    if "toxic" not in labels or "toxic" not in version.thresholds:
        return None
    j = labels.index("toxic")
    known = matrix.mask[:, j] > 0
    if not known.any():
        return None
    return bias_report(
        scores[known, j],
        matrix.y[known, j] > 0.5,
        [mentioned_terms(text) for text, k in zip(texts, known, strict=True) if k],
        version.thresholds["toxic"],
    )


def model_versions_compare(
    *, candidate: ModelVersion, active: ModelVersion, compute: bool = True
) -> Comparison | None | str:
    """The candidate against the active version on the evaluation set (less anything either
    trained on), each version at its own thresholds; plus how many of those, and of recent
    traffic, the two would route differently. None while the evaluation set is empty. Cached:
    scoring takes a while; with `compute` false, PENDING while it has not been measured."""
    labels = [label for label in candidate.labels if label in active.labels]
    texts, matrix, digest, _ = _evaluation_rows(labels)
    # The same key in every process; a rule edit (route changes) or a recalibration makes a new one.
    inputs = [candidate.pk, candidate.thresholds, active.pk, active.thresholds, repr(routing_config.get().rules)]
    key = f"compare:2:{_digest([*inputs, digest])}"  # 2: the Comparison's shape
    cached = cache.get(key, PENDING)
    if cached != PENDING or not compute:
        return cached
    keep = _kept(texts, _trained_on(candidate) | _trained_on(active))
    shared = [t for t, k in zip(texts, keep, strict=True) if k]
    if not shared:
        cache.set(key, None, 3600)
        return None
    y, mask = matrix.y[keep], matrix.mask[keep]
    scores = {version: _scores(version, shared, labels) for version in (candidate, active)}
    figures = {version: evaluate(scores[version], y, mask, labels, version.thresholds) for version in scores}
    traffic, traffic_changed = _traffic_route_changes(candidate, active, labels)
    comparison = Comparison(
        candidate=candidate.name,
        active=active.name,
        examples=len(shared),
        excluded=len(texts) - len(shared),
        per_label=_per_label(figures[candidate], figures[active], labels),
        candidate_macro_f1=figures[candidate].get("macro_f1"),
        active_macro_f1=figures[active].get("macro_f1"),
        route_changes=_route_changes(
            by_label(labels, scores[candidate]),
            candidate,
            by_label(labels, scores[active]),
            active,
            ["default"] * len(shared),
        ),
        traffic_examples=traffic,
        traffic_route_changes=traffic_changed,
    )
    cache.set(key, comparison, 3600)
    return comparison


def _per_label(candidate_figures: dict, active_figures: dict, labels: list[str]) -> list[LabelComparison]:
    def stat(figures, label, name):
        entry = figures["labels"][label]
        return entry.get(name) if entry.get("evaluated") else None

    return [
        LabelComparison(
            label,
            stat(candidate_figures, label, "f1"),
            stat(active_figures, label, "f1"),
            stat(candidate_figures, label, "roc_auc"),
            stat(active_figures, label, "roc_auc"),
        )
        for label in labels
    ]


def _route_changes(
    candidate_rows: list[dict], candidate: ModelVersion, active_rows: list[dict], active: ModelVersion, sources
) -> int:
    """How many comments the two versions, each with its scores and thresholds, route differently."""
    before, after = _routes(active_rows, active, sources), _routes(candidate_rows, candidate, sources)
    return sum(a != b for a, b in zip(before, after, strict=True))


def _traffic_route_changes(candidate: ModelVersion, active: ModelVersion, labels: list[str]) -> tuple[int, int]:
    """Recent comments the active version scored, re-scored by the candidate and routed both ways."""
    predictions = list(
        Prediction.objects.filter(model_version=active)
        .select_related("comment")
        .order_by("-created_at")[: settings.TOXISCOPE_COMPARE_TRAFFIC]
    )
    if not predictions:
        return 0, 0
    texts = [prediction.comment.text for prediction in predictions]
    sources = [prediction.comment.source for prediction in predictions]
    candidate_rows = by_label(labels, _scores(candidate, texts, labels))
    active_rows = [{label: prediction.scores[label] for label in labels} for prediction in predictions]
    return len(predictions), _route_changes(candidate_rows, candidate, active_rows, active, sources)


@dataclass(frozen=True)
class ShadowReport:
    shadow: str
    active: str
    compared: int
    per_label: dict[str, float]  # label -> share of comments flagged by one version only
    sample: list[dict]  # disagreements: comment, label, both scores


def shadow_disagreement(*, shadow: ModelVersion, active: ModelVersion, limit: int = 2000) -> ShadowReport:
    """On the latest comments both versions scored: per label, how often exactly one of them
    puts the comment at or over its threshold, with a sample of such comments."""
    shadow_scores = dict(
        Prediction.objects.filter(model_version=shadow)
        .order_by("-created_at")
        .values_list("comment_id", "scores")[:limit]
    )
    active_scores = dict(
        Prediction.objects.filter(model_version=active, comment_id__in=shadow_scores).values_list(
            "comment_id", "scores"
        )
    )
    labels = [label for label in active.labels if label in shadow.labels]
    differing: Counter = Counter()
    sample = []
    texts = dict(Comment.objects.filter(pk__in=list(active_scores)[:limit]).values_list("pk", "text"))
    for comment_id, scores in active_scores.items():
        other = shadow_scores[comment_id]
        for label in labels:
            if (scores[label] >= active.thresholds[label]) != (other[label] >= shadow.thresholds[label]):
                differing[label] += 1
                if len(sample) < 20:
                    sample.append(
                        {
                            "comment_id": comment_id,
                            "text": texts.get(comment_id, ""),
                            "label": label,
                            "active": scores[label],
                            "shadow": other[label],
                        }
                    )
    compared = len(active_scores)
    return ShadowReport(
        shadow=shadow.name,
        active=active.name,
        compared=compared,
        per_label={label: differing[label] / compared if compared else 0.0 for label in labels},
        sample=sample,
    )


@dataclass(frozen=True)
class Simulation:
    label: str
    review: float
    reject: float
    validation: object  # ThresholdOutcome, or None without a validation split
    days: int
    traffic: int  # comments this version scored in the period
    daily_review: float  # projected queue volume per day from this label
    daily_auto_reject: float


def simulate_thresholds(*, version: ModelVersion, label: str, review: float, reject: float, days: int) -> Simulation:
    """What a review and an auto-reject threshold for `label` would do: precision and recall on
    the validation split, and on the last `days` days of traffic the daily number of comments
    that would go to review (review ≤ score < reject) or be rejected (score ≥ reject)."""
    validation = validation_split_of(version)
    # Counted by the database: a week of traffic is too many score rows to bring into Python.
    recent = Prediction.objects.filter(
        model_version=version, created_at__gte=timezone.now() - timedelta(days=days), scores__has_key=label
    )
    at_review, at_reject = Q(**{f"scores__{label}__gte": review}), Q(**{f"scores__{label}__gte": reject})
    counts = recent.aggregate(
        traffic=Count("id"), reviewed=Count("id", filter=at_review & ~at_reject), rejected=Count("id", filter=at_reject)
    )
    return Simulation(
        label=label,
        review=review,
        reject=reject,
        validation=threshold_outcome(validation, label, review, reject)
        if validation and label in validation.labels
        else None,
        days=days,
        traffic=counts["traffic"],
        daily_review=counts["reviewed"] / days,
        daily_auto_reject=counts["rejected"] / days,
    )


def version_replaced_by(version: ModelVersion) -> ModelVersion | None:
    """The version that was active until `version`'s latest promotion: the rollback target."""
    promotion = AuditEvent.objects.filter(
        action="model_version.promote", target_type="moderation.modelversion", target_id=str(version.pk)
    ).first()
    name = (promotion.before or {}).get("active") if promotion else None
    return ModelVersion.objects.filter(name=name).exclude(pk=version.pk).first() if name else None


def decisions_since(*, moment) -> int:
    """Moderator decisions (approve/reject, not undone) made since `moment`: new training signal."""
    return (
        Decision.objects.filter(created_at__gte=moment, undone_at__isnull=True)
        .exclude(action=Decision.Action.ESCALATE)
        .count()
    )


# What each phase of a run does, as the run page says it (training/pipeline.py reports them).
RUN_PHASES = {
    "prepare": "preparing the data",
    "teacher": "the teacher scores the training rows",
    "train": "training",
    "export": "exporting the model for serving",
    "tf-idf": "training the TF-IDF part of the blend",
    "calibrate folds": "training calibration folds",
    "calibrate": "choosing each label's threshold on the validation split",
    "evaluate": "measuring the validation split, the bias and the robustness reports",
    "write": "writing the artifact",
    "recalibrate": "recalibrating on the latest labels",
}


def training_run_progress(run: TrainingRun) -> dict:
    """How far the run is, what it is doing, and the time left from the pace so far. Only the
    training epochs have a pace to extrapolate: the stages after them (export, calibration,
    evaluation) take a minute or more and get no estimate, rather than one that sits at a
    second for that whole minute."""
    if run.status == TrainingRun.Status.SUCCEEDED:
        fraction = 1.0
    elif run.total_epochs and run.total_steps and run.epoch:
        fraction = min(((run.epoch - 1) + run.step / run.total_steps) / run.total_epochs, 0.99)
    else:
        fraction = 0.0
    end = run.finished_at or timezone.now()
    elapsed = (end - run.started_at).total_seconds() if run.started_at else 0.0
    training = run.status == TrainingRun.Status.RUNNING and run.phase == "train"
    remaining = elapsed / fraction - elapsed if training and 0 < fraction < 1 else None
    return {
        "percent": round(fraction * 100, 1),
        "elapsed": elapsed,
        "remaining": remaining,
        "doing": RUN_PHASES.get(run.phase, run.phase) if run.status == TrainingRun.Status.RUNNING else "",
        "after_training": run.status == TrainingRun.Status.RUNNING
        and bool(run.phase)
        and not training
        and run.phase not in ("prepare", "teacher"),
    }


def int8_change(version: ModelVersion) -> dict | None:
    """What serving `version` int8-quantised changes, as its training measured it on the
    validation split; None for versions trained before ONNX serving."""
    forms = version.metrics.get("served_forms")
    if not forms:
        return None
    return {
        "full": forms["onnx"]["macro_roc_auc"],
        "int8": forms["onnx-int8"]["macro_roc_auc"],
        "max_abs_diff": forms["onnx-int8"]["max_abs_diff"],
    }
