"""Submit → score → route with a real (tiny) model, the no-model path, hot reload, analyze."""

import re
import shutil
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from moderation.engine.analysis import NO_MODEL_REASON
from moderation.engine.config import routing_config
from moderation.engine.scoring import active_model, scorer_for
from moderation.models import (
    ArtifactChunk,
    ArtifactFile,
    AuditEvent,
    Comment,
    Label,
    ModelVersion,
    Prediction,
    ReviewItem,
    RoutingRule,
)
from moderation.services import api_key_create, comments_triage_waiting, model_version_promote
from tests.factories import ApiClientFactory, install_version
from training.artifacts import file_sha256

pytestmark = pytest.mark.django_db
URL = "/api/v1/comments/"


@pytest.fixture
def api():
    _, raw_key = api_key_create(user=ApiClientFactory(), name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def test_a_submit_is_scored_stored_and_routed(api, active_version):
    body = api.post(URL, {"text": "you are a pathetic idiot", "external_id": "x1"}, format="json").json()
    assert body["scored"] is True and body["model_version"] == "tiny-active"
    assert set(body["scores"]) == set(active_version.labels)
    assert all(0.0 <= v <= 1.0 for v in body["scores"].values())
    assert body["route"]["action"] in {"review", "auto_approve", "auto_reject"}
    comment = Comment.objects.get(pk=body["id"])
    prediction = Prediction.objects.get(comment=comment)
    assert prediction.model_version == active_version and prediction.scores == body["scores"]
    flagged = [label for label, score in body["scores"].items() if score >= active_version.thresholds[label]]
    assert body["flagged_labels"] == flagged
    assert api.get(f"{URL}{comment.pk}/").json()["scores"] == body["scores"]


def test_routes_follow_the_rules_end_to_end(api, active_version):
    # Make the rules decisive for any score: every toxic >= 0 is auto-rejected on "strict".
    RoutingRule.objects.create(
        order=1, label=Label.objects.get(name="toxic"), action="auto_reject", threshold=0.0, source="strict"
    )
    rejected = api.post(URL, {"text": "anything at all", "source": "strict"}, format="json").json()
    assert rejected["route"]["action"] == "auto_reject" and rejected["status"] == "rejected"
    assert not ReviewItem.objects.filter(comment_id=rejected["id"]).exists()
    RoutingRule.objects.filter(action="auto_approve").update(margin=0.0)
    RoutingRule.objects.filter(action="review").update(is_active=False)
    ModelVersion.objects.filter(pk=active_version.pk).update(thresholds=dict.fromkeys(active_version.labels, 1.0))
    active_model.invalidate()
    routing_config.invalidate()
    approved = api.post(URL, {"text": "thanks for the edit"}, format="json").json()
    assert approved["route"]["action"] == "auto_approve" and approved["status"] == "approved"
    ModelVersion.objects.filter(pk=active_version.pk).update(thresholds=dict.fromkeys(active_version.labels, 0.0))
    active_model.invalidate()
    reviewed = api.post(URL, {"text": "borderline"}, format="json").json()
    assert reviewed["route"]["action"] == "review" and reviewed["status"] == "pending"
    assert ReviewItem.objects.get(comment_id=reviewed["id"]).queue.slug == reviewed["route"]["queue"]
    assert reviewed["flagged_labels"] == active_version.labels


def test_without_a_model_comments_wait_in_the_default_queue_and_are_scored_on_promotion(
    api, trained_artifact, artifacts_dir, django_capture_on_commit_callbacks
):
    body = api.post(URL, {"text": "hello there"}, format="json").json()
    assert body["scored"] is False and body["scores"] is None and body["model_version"] is None
    assert body["route"] == {"action": "review", "queue": "general", "reason": NO_MODEL_REASON}

    version = install_version(trained_artifact, artifacts_dir, "first", status="candidate")
    with django_capture_on_commit_callbacks() as callbacks:
        model_version_promote(version=version)
    assert len(callbacks) == 2  # reload the model here; route what waited (a task)
    callbacks[0]()  # the reload; the second would send the task that runs the next line
    assert comments_triage_waiting() == 1
    comment = Comment.objects.get(pk=body["id"])
    assert comment.routed_by == version and comment.predictions.count() == 1
    assert ReviewItem.objects.filter(comment=comment, status="open").count() <= 1
    assert comments_triage_waiting() == 0  # idempotent


def test_a_batch_is_scored_in_one_go_and_retries_are_not_rescored(api, active_version):
    items = [{"text": f"comment number {i}", "external_id": f"b{i}"} for i in range(20)]
    first = api.post(URL, items, format="json")
    assert first.status_code == 201 and all(c["scored"] for c in first.json())
    again = api.post(URL, items[:3], format="json")
    assert again.status_code == 200 and [c["created"] for c in again.json()] == [False] * 3
    assert Prediction.objects.count() == 20 and Comment.objects.count() == 20


@pytest.mark.parametrize(
    ("count", "length", "deferred"),
    [(10, 20_000, False), (11, 20_000, True), (257, 10, True), (256, 10, False)],
    ids=["200k-chars", "over-200k-chars", "over-256-comments", "256-short"],
)
def test_sync_work_is_bounded_by_its_cost(api, active_version, settings, count, length, deferred):
    """Characters are the model's cost: 120 comments of 20,000 characters, within the count
    limit, outlived gunicorn's 30 s worker timeout when scored in the request."""
    assert settings.TOXISCOPE_SYNC_SCORING_CHARS == 200_000 and settings.TOXISCOPE_SYNC_BATCH_MAX == 256
    items = [{"text": (f"comment {i} " + "x" * length)[:length]} for i in range(count)]
    response = api.post(URL, items, format="json")
    assert response.status_code == (202 if deferred else 201)
    assert all(comment["scored"] is not deferred for comment in response.json())


def test_async_submit_answers_202_and_a_worker_routes_later(api, active_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(f"{URL}?async=1", [{"text": "later please"}], format="json")
    assert response.status_code == 202
    body = response.json()[0]
    assert body["route"] is None and body["scored"] is False
    assert len(callbacks) == 1  # the scoring task is sent once the comments are committed
    assert comments_triage_waiting(comment_ids=[body["id"]]) == 1  # what the task runs
    assert api.get(f"{URL}{body['id']}/").json()["scored"] is True


def test_promotion_reaches_a_serving_process_without_a_restart(
    api, active_version, trained_artifact, artifacts_dir, settings
):
    settings.TOXISCOPE_MODEL_CHECK_INTERVAL_S = 0.2
    assert api.post(URL, {"text": "one"}, format="json").json()["model_version"] == "tiny-active"
    newer = install_version(trained_artifact, artifacts_dir, "tiny-newer", status="candidate")
    # Promoted "elsewhere": this process gets no signal, only its periodic check.
    ModelVersion.objects.filter(pk=active_version.pk).update(status="retired")
    ModelVersion.objects.filter(pk=newer.pk).update(status="active")
    time.sleep(0.3)
    assert api.post(URL, {"text": "two"}, format="json").json()["model_version"] == "tiny-newer"


def test_a_new_version_under_a_deleted_ones_id_and_name_is_loaded_afresh(trained_artifact, artifacts_dir):
    """SQLite gives a new row a deleted row's id; a restored backup can bring back a name."""
    first = install_version(trained_artifact, artifacts_dir, "reused", thresholds={"toxic": 0.3})
    assert active_model.get().version.metrics == first.metrics
    pk, created_at = first.pk, first.created_at
    first.delete()
    shutil.rmtree(artifacts_dir / "reused")
    again = install_version(trained_artifact, artifacts_dir, "reused", thresholds={"toxic": 0.3})
    ModelVersion.objects.filter(pk=again.pk).update(id=pk, metrics={"languages": {"de": 500}})
    ArtifactFile.objects.filter(version_id=again.pk).update(version_id=pk)
    assert ModelVersion.objects.get(pk=pk).created_at != created_at
    active_model.invalidate()
    assert active_model.get().version.metrics == {"languages": {"de": 500}}


def test_promotion_keeps_one_active_audits_and_rolls_back(active_version, trained_artifact, artifacts_dir):
    candidate = install_version(trained_artifact, artifacts_dir, "candidate", status="candidate")
    model_version_promote(version=candidate)
    assert list(ModelVersion.objects.filter(status="active")) == [candidate]
    assert ModelVersion.objects.get(pk=active_version.pk).status == "retired"
    model_version_promote(version=ModelVersion.objects.get(pk=active_version.pk))  # roll back
    assert list(ModelVersion.objects.filter(status="active").values_list("name", flat=True)) == ["tiny-active"]
    assert AuditEvent.objects.filter(action="model_version.promote").count() == 2


def test_a_corrupt_or_missing_artifact_is_refused_at_promotion(active_version, trained_artifact, artifacts_dir):
    broken = install_version(trained_artifact, artifacts_dir, "broken", status="candidate")
    shutil.rmtree(artifacts_dir / "broken")  # this host has no copy: promotion fetches it from the store
    weights = broken.artifact_files.get(name="model.safetensors").sha256
    ArtifactChunk.objects.filter(blob__sha256=weights, index=0).update(data=b"garbage")
    with pytest.raises(ValidationError, match="does not match its checksum in the store"):
        model_version_promote(version=broken)
    assert not (artifacts_dir / "broken").exists()  # nothing half-fetched left behind
    unstored = ModelVersion.objects.create(name="unstored", base_model="x", data_hash="0" * 64)
    with pytest.raises(ValidationError, match="has no artifact in the store"):
        model_version_promote(version=unstored)
    outside = ModelVersion.objects.create(name="..", base_model="x", data_hash="0" * 64)
    ArtifactFile.objects.create(version=outside, name="manifest.json", sha256=weights, size=1)
    with pytest.raises(ValidationError, match="is not a directory name"):
        model_version_promote(version=outside)
    assert ModelVersion.objects.get(status="active") == active_version


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_promotion_fetches_its_artifact_before_any_transaction_opens(
    active_version, trained_artifact, artifacts_dir, monkeypatch, settings, demo_data
):
    """On SQLite an open transaction holds every other writer back; a fetch takes seconds."""
    from moderation.services import model_versions

    materialise, in_transaction = model_versions.artifact_materialise, []

    def recording(version):
        in_transaction.append(connection.in_atomic_block)
        return materialise(version)

    monkeypatch.setattr(model_versions, "artifact_materialise", recording)
    settings.TOXISCOPE_PROMOTION_MARGIN = settings.TOXISCOPE_PROMOTION_LABEL_MARGIN = -1.0  # the gate fails
    candidate = install_version(trained_artifact, artifacts_dir, "overridden", status="candidate")
    model_versions.model_version_promote_gated(
        version=candidate, promoted_by=None, override=True, reason="the test's", compute=True
    )
    assert AuditEvent.objects.filter(action="model_version.promote_override").exists()  # the gated path
    model_version_promote(version=active_version)
    assert in_transaction == [False, False]


def test_a_damaged_cached_copy_is_fetched_again(active_version, artifacts_dir):
    """The store is the truth: a cached copy that no longer verifies is replaced, not served."""
    cached = artifacts_dir / active_version.name / "model.onnx"
    cached.write_bytes(b"garbage")
    assert scorer_for(active_version).score(["you idiot"]).shape == (1, len(active_version.labels))
    assert file_sha256(cached) == active_version.artifact_files.get(name="model.onnx").sha256


def test_analyze_scores_without_storing(api, active_version):
    response = api.post("/api/v1/analyze/", {"text": "I will find you"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "tiny-active" and set(body["scores"]) == set(active_version.labels)
    assert body["route"]["action"] in {"review", "auto_approve", "auto_reject"}
    assert Comment.objects.count() == 0 and Prediction.objects.count() == 0
    assert api.post("/api/v1/analyze/", {"text": " "}, format="json").status_code == 400


def test_analyze_without_a_model_is_503(api):
    response = api.post("/api/v1/analyze/", {"text": "hello"}, format="json")
    assert response.status_code == 503 and "No model is active" in response.json()["detail"]


def test_triage_waiting_command(api, trained_artifact, artifacts_dir):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no model version is active"):
        call_command("triage_waiting")
    api.post(URL, [{"text": "a"}, {"text": "b"}], format="json")
    install_version(trained_artifact, artifacts_dir, "now-active")
    active_model.invalidate()  # a new process, as the command would be
    call_command("triage_waiting")
    assert Comment.objects.filter(routed_by__name="now-active").count() == 2


def test_a_batch_costs_a_constant_number_of_queries(api, active_version):
    api.post(URL, {"text": "warm the caches"}, format="json")
    small = [{"text": f"small {i}", "external_id": f"s{i}"} for i in range(5)]
    large = [{"text": f"large {i}", "external_id": f"l{i}"} for i in range(200)]
    with CaptureQueriesContext(connection) as small_queries:
        api.post(URL, small, format="json")
    with CaptureQueriesContext(connection) as large_queries:
        assert api.post(URL, large, format="json").status_code == 201
    assert len(small_queries) <= 20
    assert _statements(large_queries) == _statements(small_queries)


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """Each statement as its verb and table, one per bulk insert: SQLite caps the parameters of
    one statement, so there Django splits a large bulk insert into several INSERTs."""
    shapes = []
    for query in queries.captured_queries:
        verb_and_table = re.match(r'(\w+)(?:.*? (?:FROM|INTO) ("\w+"))?', query["sql"], re.DOTALL)
        shape = " ".join(part for part in verb_and_table.groups() if part)
        split_bulk_insert = connection.vendor == "sqlite" and shape.startswith("INSERT") and shapes[-1:] == [shape]
        if not split_bulk_insert:
            shapes.append(shape)
    return shapes


def test_a_share_of_automatic_decisions_goes_blind_to_the_audit_queue(api, active_version, settings):
    RoutingRule.objects.create(order=1, label=Label.objects.get(name="toxic"), action="auto_reject", threshold=0.0)
    settings.TOXISCOPE_AUDIT_SAMPLE_RATE = 1.0
    api.post(URL, [{"text": f"sampled {i}"} for i in range(5)], format="json")
    settings.TOXISCOPE_AUDIT_SAMPLE_RATE = 0.0
    api.post(URL, [{"text": f"not sampled {i}"} for i in range(5)], format="json")
    assert set(Comment.objects.values_list("status", flat=True)) == {"rejected"}  # the auto decision stands
    audited = ReviewItem.objects.filter(queue__slug="audit", status="open")
    assert sorted(audited.values_list("comment__text", flat=True)) == [f"sampled {i}" for i in range(5)]
