"""The one place that sends background work to Celery.

Every send waits for the current transaction to commit, so a worker never looks for a row that
is not there yet, and a rolled-back write sends nothing. Tasks are sent by their registered
name: nothing here imports `moderation.tasks` (which import the services), so the services can
use this module without an import cycle.
"""

import logging
from collections.abc import Callable, Sequence

from django.core.cache import cache
from django.db import transaction

from toxiscope.celery import app

logger = logging.getLogger(__name__)

TRAINING_RUN_EXECUTE = "moderation.tasks.training_run_execute"
RECALIBRATION_EXECUTE = "moderation.tasks.recalibration_execute"
TRAINING_RUNS_REAP_STALE = "moderation.tasks.training_runs_reap_stale"
TRAINING_RETRAIN_IF_DUE = "moderation.tasks.training_retrain_if_due"
COMMENTS_TRIAGE_WAITING = "moderation.tasks.comments_triage_waiting"
COMMENTS_SHADOW_SCORE = "moderation.tasks.comments_shadow_score"
WEBHOOK_DELIVER = "moderation.tasks.webhook_deliver"
WEBHOOK_DELIVERIES_RESEND_DUE = "moderation.tasks.webhook_deliveries_resend_due"
MODEL_VERSION_MEASURE = "moderation.tasks.model_version_measure"
DRIFT_SNAPSHOT_RECORD = "moderation.tasks.drift_snapshot_record"  # sent by beat only
ARTIFACT_BLOBS_PRUNE = "moderation.tasks.artifact_blobs_prune"  # sent by beat only
# A page that finds a figure missing asks again at most this often per version.
MEASURE_REQUEST_S = 120
# Long work goes to its own queue, consumed by trainer workers only (toxiscope/celery.py).
TRAINING_QUEUE_TASKS = (TRAINING_RUN_EXECUTE, RECALIBRATION_EXECUTE)


def _send(name: str, args: Sequence, task_id: str | None = None) -> None:
    if app.conf.task_always_eager:
        app.tasks[name].apply(args=list(args), task_id=task_id)  # send_task ignores eager mode
    else:
        app.send_task(name, args=list(args), task_id=task_id)


def _send_or_log(name: str, args: Sequence, task_id: str | None = None) -> None:
    """Send now; a broker outage is logged and costs nothing stored: every job sent this way is
    asked for again (a periodic sweep, see CELERY_BEAT_SCHEDULE, or the next page view)."""
    try:
        _send(name, args, task_id)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise several connection error types
        logger.warning("broker unavailable: %s not sent (%s); it will be asked for again", name, exc)


def _send_on_commit(name: str, args: Sequence, *, task_id: str | None = None) -> None:
    """Send after commit (see _send_or_log)."""
    transaction.on_commit(lambda: _send_or_log(name, args, task_id))


def training_run_execute(*, run_id: int, task_id: str) -> None:
    _send_on_commit(TRAINING_RUN_EXECUTE, [run_id], task_id=task_id)


def recalibration_execute(*, run_id: int, task_id: str) -> None:
    _send_on_commit(RECALIBRATION_EXECUTE, [run_id], task_id=task_id)


def comments_triage_waiting(
    *, comment_ids: Sequence[int] | None = None, if_broker_down: Callable[[], object] | None = None
) -> None:
    """Score and route stored comments in a worker: these, or every one still waiting. If the
    broker cannot be reached, `if_broker_down` runs here and now (scoring in the request)
    rather than leave them to the sweep."""
    if if_broker_down is None:
        _send_on_commit(COMMENTS_TRIAGE_WAITING, [] if comment_ids is None else [list(comment_ids)])
        return
    ids = list(comment_ids or ())

    def send():
        try:
            _send(COMMENTS_TRIAGE_WAITING, [ids])
        except Exception as exc:  # noqa: BLE001 - as above
            logger.warning("broker unavailable (%s): scoring %d comment(s) synchronously", exc, len(ids))
            if_broker_down()

    transaction.on_commit(send)


def comments_shadow_score(*, comment_ids: Sequence[int]) -> None:
    """Off the request's path; a broker outage costs shadow data, not the submit."""
    _send_on_commit(COMMENTS_SHADOW_SCORE, [list(comment_ids)])


def model_version_measure(*, version_id: int, from_page: bool = False) -> None:
    """Measure a version's figures in a worker. A page view (or a promotion that finds no
    comparison) asks at most once every MEASURE_REQUEST_S per version, however many admins keep
    looking, and sends at once: the version is committed, and the refusal that follows may roll
    back the caller's transaction (an admin action's), which would drop a send on commit."""
    if not from_page:
        _send_on_commit(MODEL_VERSION_MEASURE, [version_id])
    elif cache.add(f"measure-requested:{version_id}", True, MEASURE_REQUEST_S):
        _send_or_log(MODEL_VERSION_MEASURE, [version_id])


def webhook_deliveries(*, delivery_ids: Sequence[int]) -> None:
    for delivery_id in delivery_ids:
        _send_on_commit(WEBHOOK_DELIVER, [delivery_id])
