"""The drift alarm end to end: Celery beat sends the snapshot task on its schedule, and the real
worker measures the active version, announces the alarm and delivers the signed webhook."""

import json
import time
import uuid
import warnings

import pytest
from django.core.management import call_command
from django.db import connection

from moderation.models import AuditEvent, DriftSnapshot
from moderation.selectors.drift import MIN_LIVE_SCORES
from moderation.services.webhooks import SIGNATURE_HEADER, sign
from tests.factories import WebhookFactory, german_stream, install_version
from tests.servers import STARTUP_DEADLINE_S, celery_worker, server_env
from tests.tiny import DEMO_CSV

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_beat_and_the_worker_raise_the_drift_alarm(settings, trained_artifact, tmp_path, receiver):
    if connection.vendor != "postgresql":
        message = "SKIPPED: a separate worker process needs a shared database; set DATABASE_URL to PostgreSQL"
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    settings.TOXISCOPE_ARTIFACTS_DIR = tmp_path / "artifacts"
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    version = install_version(trained_artifact, settings.TOXISCOPE_ARTIFACTS_DIR, "drifting")
    endpoint = receiver()
    hook = WebhookFactory(url=endpoint.url)
    german_stream(version, MIN_LIVE_SCORES + 10)
    env = server_env(
        connection,
        settings.TOXISCOPE_ARTIFACTS_DIR,
        TOXISCOPE_REDIS_PREFIX=f"toxiscope-test-{uuid.uuid4().hex[:12]}",  # its own queues and beat
        TOXISCOPE_DRIFT_SNAPSHOT_INTERVAL_S="1",
        TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
    )
    log = tmp_path / "worker.log"
    with celery_worker(env, log, "--beat", "--schedule", str(tmp_path / "beat-schedule")):
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while not endpoint.requests and time.monotonic() < deadline:
            time.sleep(0.5)
        assert endpoint.requests, f"no drift webhook; worker log:\n{log.read_text()[-4000:]}"
        # Beat sends the task again (each second here): the alarm is not announced again.
        announced = DriftSnapshot.objects.get(model_version=version).updated_at
        while DriftSnapshot.objects.get(model_version=version).updated_at == announced:
            assert time.monotonic() < deadline, f"beat sent no second snapshot:\n{log.read_text()[-4000:]}"
            time.sleep(0.5)
    snapshot = DriftSnapshot.objects.get(model_version=version)
    assert snapshot.alarms and snapshot.alarm_sent_at is not None
    event = AuditEvent.objects.get(action="model.drift")  # one: announced once
    assert event.actor is None and event.after["alarms"] == snapshot.alarms
    headers, body = endpoint.requests[0]
    payload = json.loads(body)
    assert payload["event"] == "model.drift" and payload["model_version"] == "drifting"
    timestamp = int(headers[SIGNATURE_HEADER].split(",")[0].removeprefix("t="))
    assert headers[SIGNATURE_HEADER] == sign(hook.secret, body, timestamp)
    assert len(endpoint.requests) == 1
