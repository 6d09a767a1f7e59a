"""Drift of the active version: selectors/drift.py measures the live comments against the
evaluation set; services/drift.py keeps a snapshot a day and announces an alarm once an episode."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from moderation.models import AuditEvent, Comment, Decision, DriftSnapshot, Prediction, TrainingRun, WebhookDelivery
from moderation.selectors.drift import MIN_LIVE_SCORES
from moderation.services.drift import drift_snapshot_record
from tests.conftest import shared_file
from tests.factories import AdminFactory, CommentFactory, ModeratorFactory, WebhookFactory, german_stream, score_stream
from training.data import in_evaluation_set

pytestmark = pytest.mark.django_db


def models_page() -> str:
    client = Client()
    client.force_login(AdminFactory())
    return client.get("/models/").content.decode()


def test_a_steady_stream_raises_nothing_and_another_communitys_comments_alarm(active_version, jigsaw_csv, settings):
    call_command("import_comments", str(jigsaw_csv), "--source", "jigsaw", "--no-progress")
    WebhookFactory()
    # Steady: more comments of the same community as the evaluation set, none of them in it.
    live = [comment for comment in Comment.objects.order_by("pk") if not in_evaluation_set(comment.text)][:600]
    score_stream(active_version, live)
    snapshot = drift_snapshot_record()
    assert snapshot.comments == 600 and snapshot.alarms == [], snapshot.__dict__
    assert set(snapshot.labels) == set(active_version.labels)
    assert max(snapshot.labels.values()) < settings.TOXISCOPE_DRIFT_PSI_ALERT
    assert not AuditEvent.objects.filter(action="model.drift").exists() and not WebhookDelivery.objects.exists()
    page = models_page()
    assert 'id="drift-history"' in page and 'id="drift-alarm"' not in page
    # Shifted: another community's comments (German tweets) take over the traffic.
    Prediction.objects.all().delete()
    tweets = shared_file("germeval2018_train.tsv").read_text(encoding="utf-8").splitlines()[:600]
    comments = Comment.objects.bulk_create(Comment(text=line.split("\t")[0], source="germeval") for line in tweets)
    score_stream(active_version, comments)
    snapshot = drift_snapshot_record()
    assert any(alarm.startswith("language mix") for alarm in snapshot.alarms), snapshot.alarms
    assert snapshot.languages["live"].get("de", 0) > 0.5 and snapshot.languages["shift"] > 0.5
    assert snapshot.vocabulary_miss["live"] > snapshot.vocabulary_miss["reference"]
    event = AuditEvent.objects.get(action="model.drift")
    assert event.target_id == str(active_version.pk) and event.after["alarms"] == snapshot.alarms
    delivery = WebhookDelivery.objects.get()
    assert delivery.drift_snapshot == snapshot and delivery.payload["event"] == "model.drift"
    assert delivery.payload["drift"]["alarms"] == snapshot.alarms
    page = models_page()
    assert 'id="drift-alarm"' in page and "language mix" in page[page.index('id="drift-alarm"') :]


def test_an_alarm_is_announced_once_an_episode(active_version, demo_data):
    WebhookFactory()
    german_stream(active_version, MIN_LIVE_SCORES + 10)
    first = drift_snapshot_record()
    assert first.alarms and first.alarm_sent_at is not None
    assert drift_snapshot_record().pk == first.pk  # refreshed through the day: one row a day
    announced = AuditEvent.objects.filter(action="model.drift")
    assert announced.count() == 1 and WebhookDelivery.objects.count() == 1
    # Yesterday alarmed already: today's alarm is the same episode, not announced again.
    first.delete()
    yesterday = timezone.localdate() - timedelta(days=1)
    earlier = DriftSnapshot.objects.create(
        model_version=active_version, day=yesterday, comments=60, length_psi=0.0, alarms=["language mix"]
    )
    today = drift_snapshot_record()
    assert today.alarms and today.alarm_sent_at is None and announced.count() == 1
    # After a quiet day, drift is a new episode.
    today.delete()
    earlier.alarms = []
    earlier.save()
    assert drift_snapshot_record().alarm_sent_at is not None and announced.count() == 2


def test_an_alarm_starts_a_retrain_where_scheduled_retraining_allows(active_version, demo_data, settings):
    german_stream(active_version, MIN_LIVE_SCORES)
    settings.TOXISCOPE_RETRAIN_MIN_DECISIONS = 1
    Decision.objects.create(comment=CommentFactory(), moderator=ModeratorFactory(), action="reject")
    assert drift_snapshot_record().alarms and not TrainingRun.objects.exists()  # not allowed by default
    DriftSnapshot.objects.all().delete()
    settings.TOXISCOPE_DRIFT_RETRAIN = True
    assert drift_snapshot_record().alarms and TrainingRun.objects.get().status == "queued"


def test_too_few_live_comments_say_nothing(active_version, demo_data):
    german_stream(active_version, MIN_LIVE_SCORES - 1)
    assert drift_snapshot_record() is None and not DriftSnapshot.objects.exists()
    assert "No snapshot yet" in models_page()
