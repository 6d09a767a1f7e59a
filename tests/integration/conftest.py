import os
import signal
import subprocess
import sys
import time
import warnings

import pytest
from django.conf import settings
from django.db import connection

from tests.servers import STARTUP_DEADLINE_S
from tests.tiny import REPO
from toxiscope.celery import app


def _skip_loudly(message: str):
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, tmp_path_factory):
    """A real `celery worker` process, consuming both queues from Redis, on the test database."""
    if connection.vendor != "postgresql":
        _skip_loudly("SKIPPED: a separate worker process needs a shared database; set DATABASE_URL to PostgreSQL")
    try:
        app.connection_for_write().ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any broker failure means the same: no worker possible
        _skip_loudly(f"SKIPPED: Redis broker {settings.CELERY_BROKER_URL} unreachable: {exc}")
    app.control.purge()  # messages left by an earlier, interrupted run
    db = connection.settings_dict
    artifacts = tmp_path_factory.mktemp("worker-artifacts")
    log = tmp_path_factory.mktemp("worker-log") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # The prefix follows the database's name, which pytest-django changed after settings
        # were read: the worker must use this process's, or it would consume another namespace.
        "TOXISCOPE_REDIS_PREFIX": settings.TOXISCOPE_REDIS_PREFIX,
        "TOXISCOPE_ARTIFACTS_DIR": str(artifacts),
        "HF_HUB_OFFLINE": "1",
        "TOXISCOPE_WEBHOOK_BACKOFF_S": "1",  # a retried webhook comes back within the test
        "TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",  # the tests' receivers listen on loopback
    }
    hostname = f"test-worker-{os.getpid()}@%h"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "toxiscope",
                "worker",
                "-Q",
                "default,training",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "-n",
                hostname,
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a SIGKILL can take the pool children too
        )
    # Ready once it answers a ping: it consumes nothing before, however long its start takes.
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while not app.control.ping(timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
    process.artifacts_dir = artifacts
    process.log = log
    process.kill_all = lambda: os.killpg(process.pid, signal.SIGKILL)
    yield process
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate, timeout: float, worker, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.log.read_text()[-4000:]}")
