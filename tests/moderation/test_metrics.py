"""/metrics in the Prometheus text format: request latency, predictions, queues, training runs."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from moderation.models import DriftSnapshot
from moderation.services import api_key_create
from tests.factories import ApiClientFactory, ReviewItemFactory, TrainingRunFactory

pytestmark = pytest.mark.django_db


def scrape(client=None, **headers) -> dict[str, dict[tuple, float]]:
    response = (client or APIClient()).get("/metrics", **headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_scored_comments_count_per_version_label_and_route(active_version):
    before = scrape()
    _, key = api_key_create(user=ApiClientFactory(), name="m")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    body = client.post("/api/v1/comments/", [{"text": "you idiot"}, {"text": "nice day"}], format="json").json()
    after = scrape()

    def delta(name, **labels):
        key = tuple(sorted(labels.items()))
        return after.get(name, {}).get(key, 0) - before.get(name, {}).get(key, 0)

    assert delta("toxiscope_predictions_total", model_version="tiny-active") == 2
    assert sum(delta("toxiscope_routes_total", action=a) for a in ("review", "auto_approve", "auto_reject")) == 2
    flagged = [label for item in body for label in item["flagged_labels"]]
    for label in set(flagged):
        assert delta("toxiscope_flagged_total", label=label) == flagged.count(label)
    latency = after["toxiscope_http_request_duration_seconds_count"]
    assert latency[(("method", "POST"), ("route", "api/v1/comments/"), ("status", "201"))] >= 1


def test_queue_sizes_training_runs_and_the_active_model_come_from_the_database(active_version):
    ReviewItemFactory.create_batch(3)
    TrainingRunFactory(status="failed")
    samples = scrape()
    assert samples["toxiscope_review_queue_open_items"][(("queue", "general"),)] == 3
    assert samples["toxiscope_review_queue_open_items"][(("queue", "urgent"),)] == 0
    assert samples["toxiscope_training_runs"][(("status", "failed"),)] == 1
    assert samples["toxiscope_active_model_info"] == {(("name", "tiny-active"),): 1}


def test_a_metrics_token_is_required_when_set(settings):
    settings.TOXISCOPE_METRICS_TOKEN = "scrape-me"
    assert APIClient().get("/metrics").status_code == 401
    assert APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert "toxiscope_training_runs" in scrape(HTTP_AUTHORIZATION="Bearer scrape-me")


def test_disagreement_is_exported_per_measure_label_and_community():
    from moderation.models import Decision
    from tests.factories import CommentFactory, ModeratorFactory

    for value in (False, True):
        comment = CommentFactory(flagged_labels=["toxic"], route_action="review", source="forum")
        Decision.objects.create(
            comment=comment, moderator=ModeratorFactory(), action="approve", labels={"toxic": value}
        )
    samples = scrape()
    key = (("label", "toxic"), ("measure", "flags_overturned"), ("source", "forum"))
    assert samples["toxiscope_disagreement_ratio"][key] == 0.5
    assert samples["toxiscope_disagreement_judged"][key] == 2


def test_the_latest_drift_snapshot_is_exported(active_version):
    assert "toxiscope_drift_alarm" not in scrape()  # no snapshot yet: no figure, not a quiet 0
    DriftSnapshot.objects.create(
        model_version=active_version, day="2026-01-01", comments=80, labels={"toxic": 0.4}, length_psi=0.1
    )
    DriftSnapshot.objects.create(
        model_version=active_version,
        day="2026-01-02",
        comments=90,
        labels={"toxic": 0.05},
        length_psi=0.3,
        alarms=["comment length (index 0.30)"],
    )
    samples = scrape()
    assert samples["toxiscope_drift_psi"] == {(("measure", "toxic"),): 0.05, (("measure", "length"),): 0.3}
    assert samples["toxiscope_drift_alarm"] == {(): 1}
