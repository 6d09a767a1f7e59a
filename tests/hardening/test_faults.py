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


def test_after_the_database_drops_every_connection_the_server_reconnects(trained_artifact, artifacts_dir):
    """What a PostgreSQL restart does to its clients: every session is cut. Persistent
    connections (CONN_MAX_AGE) are health-checked at the next request and replaced."""
    if connection.vendor != "postgresql":
        pytest.skip("terminates PostgreSQL sessions")
    install_version(trained_artifact, artifacts_dir, "serving")
    raw_key = api_key_create(user=ApiClientFactory(), name="db")[1]
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TOXISCOPE_ARTIFACTS_DIR": str(artifacts_dir),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DATABASE_CONN_MAX_AGE": "600",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "toxiscope.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert submit(port, raw_key, "before") == 201
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db["NAME"]]
            )
            assert cursor.fetchone()[0] >= 1  # the server holds a persistent connection
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [db["NAME"]],
            )
        statuses = [submit(port, raw_key, f"after {i}") for i in range(3)]
        # CONN_HEALTH_CHECKS finds the dead connection at the start of the next request and
        # opens a new one: not even that request fails.
        assert statuses == [201, 201, 201], statuses
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert Comment.objects.filter(text__startswith="after").count() == 3


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def submit(port: int, raw_key: str, text: str) -> int:
    import http.client

    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "POST",
                "/api/v1/comments/",
                body=json.dumps({"text": text}),
                headers={"Authorization": f"Api-Key {raw_key}", "Content-Type": "application/json"},
            )
            return conn.getresponse().status
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
