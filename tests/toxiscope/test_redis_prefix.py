"""Two installs on one Redis, each with the default URLs, stay apart: their broker queues, cache
entries and rate-limit counts carry a prefix named after each one's database."""

import json
import os
import subprocess
import sys

import redis

from tests.tiny import REPO

BROKER = "redis://127.0.0.1:6379/15"
# The test worker's own cache database (tests/parallel.py): another worker flushes its own.
CACHE = os.environ.get("TOXISCOPE_CACHE_URL", "redis://127.0.0.1:6379/14")
SCRIPT = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.cache import cache
from toxiscope.celery import app
if sys.argv[1] == "write":
    cache.set("shared-name", str(settings.VAR_DIR))
    app.send_task("moderation.tasks.comments_triage_waiting", args=[])
print(json.dumps({"prefix": settings.TOXISCOPE_REDIS_PREFIX, "cache": cache.get("shared-name")}))
"""


def _install(var, step: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "TOXISCOPE_REDIS_PREFIX")}
    env.update(TOXISCOPE_VAR_DIR=str(var), CELERY_BROKER_URL=BROKER, TOXISCOPE_CACHE_URL=CACHE)
    env["DJANGO_SETTINGS_MODULE"] = "toxiscope.settings"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, step], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_installs_on_one_redis_keep_their_queues_and_caches_apart(tmp_path):
    broker = redis.Redis.from_url(BROKER)
    unprefixed = broker.llen("default")  # what an install without the prefix left, if any
    first, second = _install(tmp_path / "a", "write"), _install(tmp_path / "b", "write")
    assert first["prefix"] != second["prefix"]
    assert _install(tmp_path / "a", "read")["cache"] == str(tmp_path / "a")  # not b's value
    assert _install(tmp_path / "b", "read")["cache"] == str(tmp_path / "b")
    try:
        for install in (first, second):
            queue = f"{install['prefix']}:default"
            assert broker.llen(queue) == 1  # each install's task in its own queue, none in the other's
            broker.delete(queue)
        assert broker.llen("default") == unprefixed  # nothing in the queue an unprefixed install reads
    finally:
        broker.close()
