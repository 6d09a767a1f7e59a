"""A real worker process consumes the tasks from Redis: nothing eager, nothing mocked."""

import pytest
from django.core.management import call_command
from django.db import connection

from moderation.models import Comment, ModelVersion, Prediction, TrainingRun, WebhookDelivery
from moderation.services import comments_submit_many
from moderation.services.model_versions import model_version_shadow_set
from moderation.services.review import review_item_decide
from moderation.services.training import training_run_start
from tests.factories import ApiClientFactory, ModeratorFactory, ReviewItemFactory, WebhookFactory, install_version
from tests.integration.conftest import wait_for
from tests.tiny import DEMO_CSV, tiny_config

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TINY = {k: v for k, v in tiny_config().to_dict().items() if k not in ("labels", "base_model")}
FINISHED = {"succeeded", "failed", "cancelled"}


def finished(run: TrainingRun):
    run.refresh_from_db()
    return run.status in FINISHED and run


def test_a_worker_trains_a_candidate_model_from_the_training_queue(celery_worker):
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    run = training_run_start(config=TINY)
    run = wait_for(lambda: finished(run), 240, celery_worker, "the training run")
    assert run.status == "succeeded", run.error
    assert run.celery_task_id
    version = ModelVersion.objects.get(training_run=run)
    stored = set(version.artifact_files.values_list("name", flat=True))
    assert {"manifest.json", "model.safetensors", "model.onnx", "tokenizer.json"} <= stored  # in the database
    assert (celery_worker.artifacts_dir / version.name / "model.safetensors").is_file()  # and the worker's cache
    assert run.step == run.total_steps and run.val_macro_f1 is not None


def test_a_failing_run_ends_failed_with_its_error(celery_worker, tmp_path):
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    run = training_run_start(config={**TINY, "base_model": str(tmp_path / "no-such-model")})
    run = wait_for(lambda: finished(run), 120, celery_worker, "the failing run")
    assert run.status == "failed"
    assert "BaseModelError" in run.error and "does not exist" in run.error
    assert not ModelVersion.objects.exists()


def test_an_async_batch_is_scored_and_routed_by_the_worker(celery_worker, settings, trained_artifact):
    settings.TOXISCOPE_ARTIFACTS_DIR = celery_worker.artifacts_dir  # where the worker looks
    install_version(trained_artifact, celery_worker.artifacts_dir, "async-active")
    results = comments_submit_many(
        client=ApiClientFactory(),
        defer_scoring=True,
        items=[{"text": f"async comment {i}", "external_id": f"a{i}"} for i in range(30)],
    )
    ids = [result.comment.pk for result in results]
    assert not Comment.objects.filter(pk__in=ids).exclude(route_action="").exists()  # stored, not yet routed
    wait_for(
        lambda: not Comment.objects.filter(pk__in=ids, route_action="").exists(), 120, celery_worker, "the scoring task"
    )
    routed = Comment.objects.filter(pk__in=ids)
    assert {c.routed_by.name for c in routed} == {"async-active"}
    assert all(c.predictions.count() == 1 for c in routed)


def test_the_worker_delivers_a_decision_webhook_retrying_a_failure(celery_worker, receiver):
    endpoint = receiver(statuses=[503])
    WebhookFactory(url=endpoint.url)
    item = ReviewItemFactory()
    decision = review_item_decide(item_id=item.pk, moderator=ModeratorFactory(), action="reject")
    delivery = WebhookDelivery.objects.get(decision=decision)

    def delivered():
        delivery.refresh_from_db()
        return delivery.status == "delivered"

    wait_for(delivered, 60, celery_worker, "the webhook delivery")
    assert delivery.attempts == 2 and len(endpoint.requests) == 2


def test_the_worker_reconnects_after_the_database_drops_its_connections(celery_worker, settings, trained_artifact):
    """What a PostgreSQL restart does to the worker: every session is cut. The next task must
    still run, not fail and be lost. (Celery's Django fixup closes the task's connections after
    each task, so the worker opens a fresh one; this test keeps it that way.)"""
    settings.TOXISCOPE_ARTIFACTS_DIR = celery_worker.artifacts_dir
    install_version(trained_artifact, celery_worker.artifacts_dir, "reconnect-active")
    client = ApiClientFactory()

    def scored_by_the_worker(tag: str) -> None:
        items = [{"text": f"{tag} {i}", "external_id": f"{tag}{i}"} for i in range(3)]
        ids = [r.comment.pk for r in comments_submit_many(client=client, defer_scoring=True, items=items)]
        routed = lambda: not Comment.objects.filter(pk__in=ids, route_action="").exists()  # noqa: E731
        wait_for(routed, 60, celery_worker, f"the worker to score the {tag!r} comments")

    scored_by_the_worker("before")
    db_name = connection.settings_dict["NAME"]
    others = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_terminate_backend(pid) {others}", [db_name])
    scored_by_the_worker("after")


def test_a_shadow_version_scores_live_traffic_through_the_worker(celery_worker, settings, trained_artifact):
    settings.TOXISCOPE_ARTIFACTS_DIR = celery_worker.artifacts_dir
    install_version(trained_artifact, celery_worker.artifacts_dir, "serving")
    shadow = install_version(trained_artifact, celery_worker.artifacts_dir, "in-shadow", status="candidate")
    model_version_shadow_set(version=shadow, changed_by=None)
    results = comments_submit_many(client=ApiClientFactory(), items=[{"text": f"shadowed {i}"} for i in range(4)])
    ids = [result.comment.pk for result in results]
    assert {result.comment.routed_by.name for result in results} == {"serving"}  # routed by the active one

    def shadow_scored():
        return Prediction.objects.filter(comment_id__in=ids, model_version=shadow).count() == 4

    wait_for(shadow_scored, 60, celery_worker, "the shadow scoring task")
