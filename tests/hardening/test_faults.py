"""Faults, for real: no mocks of the thing that fails."""

import json
import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from moderation.models import Comment
from moderation.services import api_key_create
from tests.factories import ApiClientFactory, install_version
from tests.tiny import REPO

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SUBMIT = """
import json
from django.test import Client
response = Client().post("/api/v1/comments/?async=1", [{"text": "broker is down", "external_id": "f1"}],
                         content_type="application/json", HTTP_AUTHORIZATION="Api-Key %s")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_with_redis_unreachable_an_async_submit_is_stored_scored_and_says_so(trained_artifact, artifacts_dir):
    if connection.vendor != "postgresql":
        pytest.skip("the second process needs the test database on PostgreSQL")
    install_version(trained_artifact, artifacts_dir, "serving")
    raw_key = api_key_create(user=ApiClientFactory(), name="f")[1]
    db = connection.settings_dict
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "testserver",
        "TOXISCOPE_ARTIFACTS_DIR": str(artifacts_dir),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
    }  # nothing listens on port 1
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SUBMIT % raw_key],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 201  # not 202: scored here, since nothing could be queued
    assert answer["body"][0]["scored"] is True and answer["body"][0]["model_version"] == "serving"
    comment = Comment.objects.get(external_id="f1")
    assert comment.route_action and comment.predictions.count() == 1
    assert "broker unavailable" in result.stderr
    assert time.monotonic() - started < 60  # failed fast, no endless retries
