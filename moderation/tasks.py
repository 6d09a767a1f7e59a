"""Celery tasks: ids in, one service call, nothing else."""

from celery import shared_task
from django.conf import settings

from moderation.services import model_lifecycle, routing, training, webhooks


@shared_task(
    time_limit=settings.TOXISCOPE_TRAINING_TIME_LIMIT_S,
    soft_time_limit=settings.TOXISCOPE_TRAINING_TIME_LIMIT_S - 60,
)
def training_run_execute(run_id: int) -> None:
    training.training_run_execute(run_id=run_id)


@shared_task(time_limit=3600, soft_time_limit=3540)
def threshold_recalibrate(run_id: int) -> None:
    training.recalibration_execute(run_id=run_id)


@shared_task
def training_runs_reap_stale() -> int:
    return training.training_runs_reap_stale()


@shared_task
def comments_score(comment_ids: list[int]) -> int:
    """Score and route comments submitted asynchronously. Idempotent: a comment already
    routed by the active model is skipped, so a redelivered task does no harm."""
    return routing.comments_route_pending(comment_ids=comment_ids)


@shared_task
def comments_route_waiting() -> int:
    """The sweep: routes every submitted comment still waiting (lost tasks, no-model routes)."""
    return routing.comments_route_pending()


@shared_task(bind=True, max_retries=None)
def webhook_deliver(self, delivery_id: int) -> None:
    """One attempt; on failure the service says when to try again (exponential back-off) until
    its attempts run out, and the delivery log keeps each outcome."""
    retry_in = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task
def webhook_deliveries_resend_due() -> int:
    return webhooks.webhook_deliveries_resend_due()


@shared_task
def comments_shadow_score(comment_ids: list[int]) -> int:
    return model_lifecycle.comments_shadow_score(comment_ids=comment_ids)


@shared_task
def training_retrain_if_due() -> int | None:
    run = model_lifecycle.training_retrain_if_due()
    return run.pk if run else None
