"""Faults, for real: no mocks of the thing that fails."""

import json
import os
import subprocess
import sys
import time

import pytest
import requests
from django.db import connection

from moderation.models import Comment
from moderation.services import api_key_create
from tests.factories import PASSWORD, ApiClientFactory, install_version
from tests.servers import gunicorn, server_env
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
    """What a PostgreSQL restart does to its clients: every session is cut. A web worker opens
    its connection per request (gevent: toxiscope/gunicorn_conf.py), whatever
    DATABASE_CONN_MAX_AGE says, so the next request connects anew; the Celery worker's
    persistent connections are health-checked (CONN_HEALTH_CHECKS) and replaced."""
    if connection.vendor != "postgresql":
        pytest.skip("terminates PostgreSQL sessions")
    install_version(trained_artifact, artifacts_dir, "serving")
    raw_key = api_key_create(user=ApiClientFactory(), name="db")[1]
    db = connection.settings_dict
    with gunicorn(server_env(connection, artifacts_dir, DATABASE_CONN_MAX_AGE="600")) as base:
        assert submit(base, raw_key, "before") == 201
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [db["NAME"]],
            )
        statuses = [submit(base, raw_key, f"after {i}") for i in range(3)]
        # Not even the first request after the cut fails.
        assert statuses == [201, 201, 201], statuses
    assert Comment.objects.filter(text__startswith="after").count() == 3


def submit(base: str, raw_key: str, text: str) -> int:
    return requests.post(
        f"{base}/api/v1/comments/", json={"text": text}, headers={"Authorization": f"Api-Key {raw_key}"}, timeout=30
    ).status_code


class DatabaseRelay:
    """A TCP relay between a server and PostgreSQL that can cut every connection and refuse new
    ones, as a database restart does, without touching the test's own connection."""

    def __init__(self, target_port: int):
        import socket
        import threading

        self.target_port, self.up, self.pairs = target_port, True, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self.pairs.append((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                sock.close()

    def cut(self):
        self.up = False
        for pair in self.pairs:
            for sock in pair:
                sock.close()
        self.pairs.clear()

    def resume(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


def test_a_database_restart_while_a_moderator_decides_says_not_saved_and_writes_nothing(
    trained_artifact, artifacts_dir
):
    """The moderator's decide reaches a server whose database has just gone: they read "not
    saved", the item stays theirs and open, and the retry after the restart is stored once."""
    import re

    from moderation.models import Decision, ReviewItem
    from tests.factories import ModeratorFactory, ReviewItemFactory

    if connection.vendor != "postgresql":
        pytest.skip("relays PostgreSQL")
    install_version(trained_artifact, artifacts_dir, "serving")
    moderator = ModeratorFactory()
    item = ReviewItemFactory(priority=1e6, queue_order=1e6)  # the most urgent, whatever else is open
    relay = DatabaseRelay(int(connection.settings_dict["PORT"] or 5432))
    # A second, not 5, for a connection from the pool: the failed save answers sooner.
    env = server_env(connection, artifacts_dir, db_port=relay.port, DATABASE_POOL_TIMEOUT_S="1")
    browser = requests.Session()
    with gunicorn(env) as base:
        login = browser.get(f"{base}/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        browser.post(
            f"{base}/login/",
            {"username": moderator.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/login/"},
            timeout=10,
        )
        work = browser.get(f"{base}/review/general/work/", timeout=10)
        assert f"/items/{item.pk}/decide/" in work.text  # claimed
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', work.text).group(1)

        def decide():
            return browser.post(
                f"{base}/review/general/items/{item.pk}/decide/",
                {"action": "reject", "csrfmiddlewaretoken": token},
                headers={"HX-Request": "true", "Referer": f"{base}/review/general/work/"},
                timeout=30,
            )

        relay.cut()  # the database restarts
        failed = decide()
        assert failed.status_code == 503, failed.status_code
        assert failed.headers["X-Error-Message"].startswith("Not saved")
        assert not Decision.objects.exists()
        item.refresh_from_db()
        assert item.status == "open" and item.claimed_by_id == moderator.pk
        relay.resume()  # it is back
        retried = decide()
        assert retried.status_code == 200
    relay.close()
    assert Decision.objects.filter(review_item=item, action="reject").count() == 1
    assert ReviewItem.objects.get(pk=item.pk).status != "open"
