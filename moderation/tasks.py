"""Celery tasks: ids in, one service call, nothing else. Only `moderation.jobs` sends them,
by the names given here."""

from celery import shared_task
from django.conf import settings

from moderation import jobs
from moderation.services import artifacts, drift, model_versions, training, triage, webhooks


@shared_task(
    name=jobs.TRAINING_RUN_EXECUTE,
    time_limit=settings.TOXISCOPE_TRAINING_TIME_LIMIT_S,
    soft_time_limit=settings.TOXISCOPE_TRAINING_TIME_LIMIT_S - 60,
)
def training_run_execute(run_id: int) -> None:
    training.training_run_execute(run_id=run_id)


@shared_task(name=jobs.RECALIBRATION_EXECUTE, time_limit=3600, soft_time_limit=3540)
def recalibration_execute(run_id: int) -> None:
    training.recalibration_execute(run_id=run_id)


@shared_task(name=jobs.TRAINING_RUNS_REAP_STALE)
def training_runs_reap_stale() -> int:
    return training.training_runs_reap_stale()


@shared_task(name=jobs.TRAINING_RETRAIN_IF_DUE)
def training_retrain_if_due() -> int | None:
    run = training.training_retrain_if_due()
    return run.pk if run else None


@shared_task(name=jobs.COMMENTS_TRIAGE_WAITING)
def comments_triage_waiting(comment_ids: list[int] | None = None) -> int:
    """Score and route the comments of an asynchronous submit or, without ids, the sweep's every
    comment still waiting (lost tasks, no-model routes). Idempotent: a comment already routed
    by the active model is skipped, so a redelivered task does no harm."""
    return triage.comments_triage_waiting(comment_ids=comment_ids)


@shared_task(name=jobs.COMMENTS_SHADOW_SCORE)
def comments_shadow_score(comment_ids: list[int]) -> int:
    return model_versions.comments_shadow_score(comment_ids=comment_ids)


@shared_task(name=jobs.MODEL_VERSION_MEASURE)
def model_version_measure(version_id: int) -> None:
    model_versions.model_version_measure(version_id=version_id)


@shared_task(name=jobs.WEBHOOK_DELIVER, bind=True, max_retries=None)
def webhook_deliver(self, delivery_id: int) -> None:
    """One attempt; on failure the service says when to try again (exponential back-off) until
    its attempts run out, and the delivery log keeps each outcome."""
    retry_in = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name=jobs.WEBHOOK_DELIVERIES_RESEND_DUE)
def webhook_deliveries_resend_due() -> int:
    return webhooks.webhook_deliveries_resend_due()


@shared_task(name=jobs.DRIFT_SNAPSHOT_RECORD)
def drift_snapshot_record() -> int | None:
    snapshot = drift.drift_snapshot_record()
    return snapshot.pk if snapshot else None


@shared_task(name=jobs.ARTIFACT_BLOBS_PRUNE)
def artifact_blobs_prune() -> int:
    return artifacts.artifact_blobs_prune()
