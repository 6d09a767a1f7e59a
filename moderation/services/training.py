"""The bridge from the database's annotations to the `training` package, and back.

A run is claimed, executed and finished here; the Celery task and `manage.py train` are two
ways of calling the same functions.
"""

import logging
import time
import traceback
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from moderation import jobs
from moderation.models import Label, LabelAnnotation, ModelVersion, TrainingRun
from moderation.selectors import training_data
from moderation.selectors.model_versions import decisions_since
from moderation.selectors.training_data import DATA_ORIGINS
from moderation.services.artifacts import artifact_upload
from moderation.services.audit import audit_event_record
from moderation.services.model_versions import model_version_create, model_version_promote_gated
from moderation.storage import artifact_materialise
from training.config import ConfigError, TrainConfig
from training.progress import Progress, TrainingCancelled

logger = logging.getLogger(__name__)

# Progress is written at most this often: a row update per step would slow a fast model down.
PROGRESS_INTERVAL_S = 1.0
TRAINING_LOCK_KEY = 0x7A_5C_09_E1


def training_config_build(overrides: dict | None = None) -> TrainConfig:
    """Reference defaults, the preset of the base model (the deployment's unless `overrides`
    name another), the active labels, then `overrides`."""
    values = {
        "base_model": settings.TOXISCOPE_BASE_MODEL,
        "labels": list(Label.objects.filter(is_active=True).values_list("name", flat=True)),
        **(overrides or {}),
    }
    try:
        return TrainConfig.for_base(values)
    except ConfigError as exc:
        raise ValidationError(exc.errors) from None


def training_data_options(data: dict | None) -> dict:
    """Which annotations a run learns from: origins, an optional date range (ISO dates), and
    optionally only some communities' comments (`sources`)."""
    data = dict(data or {})
    errors = {}
    origins = data.get("origins", list(DATA_ORIGINS))
    if not isinstance(origins, list) or not origins or not set(origins) <= set(DATA_ORIGINS):
        errors["origins"] = f"must be a non-empty list drawn from {', '.join(DATA_ORIGINS)}"
    for key in ("since", "until"):
        if data.get(key) is not None:
            try:
                datetime.fromisoformat(data[key])
            except (TypeError, ValueError):
                errors[key] = "must be an ISO date or date-time"
    sources = data.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(source, str) and source for source in sources):
        errors["sources"] = "must be a list of community (source) names"
    unknown = set(data) - {"origins", "since", "until", "sources"}
    errors.update({key: "unknown data option" for key in unknown})
    if errors:
        raise ValidationError(errors)
    return {"origins": origins, "since": data.get("since"), "until": data.get("until"), "sources": sources}


def _serialize_run_starts() -> None:
    """Two admins pressing Retrain at once must not both pass the concurrency check."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TRAINING_LOCK_KEY])


@transaction.atomic
def training_run_start(
    *,
    config: dict | None = None,
    data: dict | None = None,
    requested_by=None,
    enqueue: bool = True,
    auto_promote: bool = False,
) -> TrainingRun:
    """Create a queued training run and, with `enqueue`, send it to the `training` queue once
    this transaction commits (without, the caller executes it: `manage.py train`). With
    `auto_promote`, the new version is promoted if it passes the promotion gate."""
    train_config = training_config_build(config)
    if train_config.teacher and not ModelVersion.objects.filter(name=train_config.teacher).exists():
        raise ValidationError({"teacher": f"no model version named {train_config.teacher!r} to distil from"})
    data_options = training_data_options(data)
    _serialize_run_starts()
    training_runs_reap_stale()
    unfinished = TrainingRun.objects.filter(status__in=TrainingRun.UNFINISHED).count()
    if unfinished >= settings.TOXISCOPE_MAX_CONCURRENT_TRAINING_RUNS:
        raise ValidationError(
            f"{unfinished} training run(s) already queued or running; this deployment allows "
            f"{settings.TOXISCOPE_MAX_CONCURRENT_TRAINING_RUNS} at a time (TOXISCOPE_MAX_CONCURRENT_TRAINING_RUNS)"
        )
    run = TrainingRun.objects.create(
        kind=TrainingRun.Kind.TRAIN,
        config={"training": train_config.to_dict(), "data": data_options, "auto_promote": auto_promote},
        requested_by=requested_by,
        total_epochs=train_config.max_epochs,
        celery_task_id=str(uuid.uuid4()) if enqueue else "",
    )
    audit_event_record(actor=requested_by, action="training_run.start", target=run, after=run.config)
    if enqueue:
        jobs.training_run_execute(run_id=run.pk, task_id=run.celery_task_id)
    return run


def _claim(run_id: int, kind: str) -> TrainingRun | None:
    """Move a queued run to running; None if it is not queued (a redelivered task, a cancel)."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().filter(pk=run_id, kind=kind).first()
        if run is None:
            logger.warning("training run %s does not exist", run_id)
            return None
        if run.status != TrainingRun.Status.QUEUED:
            logger.info("training run %s is %s, not queued: nothing to do", run_id, run.status)
            return None
        now = timezone.now()
        if run.cancel_requested:
            run.status, run.finished_at = TrainingRun.Status.CANCELLED, now
            run.save(update_fields=["status", "finished_at"])
            return None
        run.status, run.started_at, run.heartbeat_at = TrainingRun.Status.RUNNING, now, now
        run.save(update_fields=["status", "started_at", "heartbeat_at"])
        return run


class _ProgressRecorder:
    """Writes progress to the run row (throttled) and stops the run when a cancel is asked."""

    def __init__(self, run: TrainingRun):
        self.run = run
        self.last_write = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        final_step = progress.step == progress.total_steps
        if now - self.last_write < PROGRESS_INTERVAL_S and not final_step and progress.val_macro_f1 is None:
            return
        self.last_write = now
        fields = {"phase": progress.phase, "heartbeat_at": timezone.now()}
        if progress.total_steps:
            fields.update(
                epoch=progress.epoch,
                total_epochs=progress.total_epochs,
                step=progress.step,
                total_steps=progress.total_steps,
                loss=progress.loss,
            )
        if progress.val_macro_f1 is not None:
            fields["val_macro_f1"] = progress.val_macro_f1
        TrainingRun.objects.filter(pk=self.run.pk).update(**fields)
        if TrainingRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            raise TrainingCancelled()


def _finish(run: TrainingRun, status: str, error: str = "") -> None:
    TrainingRun.objects.filter(pk=run.pk).update(status=status, error=error[-10_000:], finished_at=timezone.now())


def _succeed(run: TrainingRun, outcome, run_fields: dict, **version_fields) -> ModelVersion:
    """Store the run's artifact, then record it as a candidate version and end the run
    succeeded, together."""
    stored = artifact_upload(path=outcome.artifact_path)
    with transaction.atomic():
        version = model_version_create(
            artifact=stored,
            name=outcome.artifact_path.name,
            thresholds=outcome.thresholds,
            metrics=outcome.metrics,
            data_hash=outcome.data_hash,
            created_by=run.requested_by,
            **version_fields,
        )
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingRun.Status.SUCCEEDED,
            model_version=version,
            finished_at=timezone.now(),
            phase="done",
            **run_fields,
        )
        jobs.model_version_measure(version_id=version.pk)
    return version


def _run_guarded(run: TrainingRun, work) -> None:
    """Run `work`; any failure ends the run failed with its error, a cancel ends it cancelled."""
    try:
        work()
    except TrainingCancelled:
        _finish(run, TrainingRun.Status.CANCELLED)
    except Exception as exc:
        logger.exception("training run %s failed", run.pk)
        _finish(run, TrainingRun.Status.FAILED, f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
    except BaseException as exc:
        # Celery's time limits and a shutdown arrive as BaseException: record them, then let go.
        _finish(run, TrainingRun.Status.FAILED, f"{type(exc).__name__}: the run was interrupted")
        raise


def training_run_execute(*, run_id: int) -> TrainingRun | None:
    """Train, calibrate, evaluate and record a candidate ModelVersion for a queued run."""
    from training.pipeline import run_training

    run = _claim(run_id, TrainingRun.Kind.TRAIN)
    if run is None:
        return None

    def work():
        config = TrainConfig.from_mapping(run.config["training"])
        data = run.config["data"]
        examples = training_data.training_examples(
            labels=config.labels,
            origins=data["origins"],
            since=data["since"],
            until=data["until"],
            sources=data.get("sources") or None,
        )
        transfer = []
        if config.teacher:
            # The teacher is named by version here, by artifact in `training`; it scores every
            # comment text the platform holds, live traffic included (not the evaluation set).
            teacher = ModelVersion.objects.get(name=config.teacher)
            config = config.replace(teacher=str(artifact_materialise(teacher)))
            transfer = training_data.transfer_texts()
        outcome = run_training(
            config,
            examples,
            settings.TOXISCOPE_ARTIFACTS_DIR,
            transfer_texts=transfer,
            # The run's id: two runs on the same data in the same second get different names.
            name=f"{timezone.now():%Y%m%d-%H%M%S}-run{run.pk}",
            on_progress=_ProgressRecorder(run),
        )
        _succeed(
            run,
            outcome,
            {"val_macro_f1": outcome.metrics["model"]["calibrated"]["macro_f1"]},
            base_model=outcome.base_model,
            labels=list(config.labels),
            train_size=outcome.train_size,
            seed=config.seed,
        )

    _run_guarded(run, work)
    run.refresh_from_db()
    if run.status == TrainingRun.Status.SUCCEEDED and run.config.get("auto_promote"):
        _auto_promote(run.model_version)
    return run


def _auto_promote(version: ModelVersion) -> None:
    try:
        model_version_promote_gated(version=version, promoted_by=None)
    except ValidationError as exc:
        logger.warning("scheduled retrain: %s stays a candidate: %s", version.name, exc.messages[0])
        audit_event_record(
            actor=None, action="model_version.auto_promote_refused", target=version, after={"why": exc.messages}
        )


@transaction.atomic
def training_run_cancel(*, run: TrainingRun, cancelled_by=None) -> TrainingRun:
    """A queued run ends at once; a running one stops at its next progress report."""
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.status not in TrainingRun.UNFINISHED:
        raise ValidationError(f"run #{run.pk} is {run.status}; only a queued or running run can be cancelled")
    run.cancel_requested = True
    fields = ["cancel_requested"]
    if run.status == TrainingRun.Status.QUEUED:
        run.status, run.finished_at = TrainingRun.Status.CANCELLED, timezone.now()
        fields += ["status", "finished_at"]
    run.save(update_fields=fields)
    audit_event_record(actor=cancelled_by, action="training_run.cancel", target=run)
    return run


def training_runs_reap_stale() -> int:
    """Fail running runs whose worker stopped reporting: a killed worker never leaves a run
    `running` forever. Returns how many were reaped."""
    cutoff = timezone.now() - timedelta(seconds=settings.TOXISCOPE_TRAINING_HEARTBEAT_TIMEOUT_S)
    return TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, heartbeat_at__lt=cutoff).update(
        status=TrainingRun.Status.FAILED,
        finished_at=timezone.now(),
        error=f"worker lost: no progress reported for {settings.TOXISCOPE_TRAINING_HEARTBEAT_TIMEOUT_S} s",
    )


@transaction.atomic
def recalibration_start(
    *, model_version: ModelVersion, since: str | None = None, requested_by=None, enqueue: bool = True
) -> TrainingRun:
    """Queue new thresholds for `model_version` from moderator decisions (by default those made
    since it was created), recorded as a new candidate version with an artifact of its own
    that shares the parent's weights. The run keeps the parent's training config."""
    data = training_data_options(
        {"origins": [LabelAnnotation.Origin.MODERATOR], "since": since or model_version.created_at.isoformat()}
    )
    parent_run = TrainingRun.objects.filter(model_version=model_version).first()
    run = TrainingRun.objects.create(
        kind=TrainingRun.Kind.RECALIBRATE,
        parent=model_version,
        requested_by=requested_by,
        config={"data": data, "training": parent_run.config.get("training") if parent_run else None},
        celery_task_id=str(uuid.uuid4()) if enqueue else "",
    )
    audit_event_record(actor=requested_by, action="recalibration.start", target=run, after=run.config)
    if enqueue:
        jobs.recalibration_execute(run_id=run.pk, task_id=run.celery_task_id)
    return run


def recalibration_execute(*, run_id: int) -> TrainingRun | None:
    from training.recalibration import recalibrate

    run = _claim(run_id, TrainingRun.Kind.RECALIBRATE)
    if run is None:
        return None

    def work():
        source = run.parent
        data = run.config["data"]
        examples = training_data.training_examples(
            labels=source.labels,
            origins=data["origins"],
            since=data["since"],
            until=data["until"],
            sources=data.get("sources") or None,
        )
        _ProgressRecorder(run)(Progress("recalibrate", 0, 0, 0, 0))
        outcome = recalibrate(
            artifact_materialise(source),
            examples,
            source.thresholds,
            out_dir=settings.TOXISCOPE_ARTIFACTS_DIR,
            name=f"{source.name}-recal-{run.pk}",
            context={"since": data["since"]},
        )
        _succeed(
            run,
            outcome,
            {},
            base_model=source.base_model,
            labels=source.labels,
            train_size=source.train_size,
            seed=source.seed,
            parent=source,
        )

    _run_guarded(run, work)
    run.refresh_from_db()
    return run


def training_retrain_if_due(*, drifted: bool = False) -> TrainingRun | None:
    """The scheduled retrain: start a run when retraining is on, the last run is old enough (or
    the active model has `drifted`: no waiting then) and enough new moderator decisions exist.
    Returns the run started, if any."""
    if settings.TOXISCOPE_RETRAIN_MIN_DECISIONS <= 0:
        return None
    last = TrainingRun.objects.filter(kind=TrainingRun.Kind.TRAIN).order_by("-created_at").first()
    interval = timedelta(days=settings.TOXISCOPE_RETRAIN_INTERVAL_DAYS)
    if last is not None and not drifted and last.created_at > timezone.now() - interval:
        return None
    new_decisions = decisions_since(moment=last.created_at if last else timezone.now() - timedelta(days=3650))
    if new_decisions < settings.TOXISCOPE_RETRAIN_MIN_DECISIONS:
        return None
    logger.info("scheduled retrain: %d new moderator decisions", new_decisions)
    return training_run_start(auto_promote=settings.TOXISCOPE_RETRAIN_AUTO_PROMOTE)
