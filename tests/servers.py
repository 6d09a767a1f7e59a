"""The real web server (gunicorn) and a Celery worker, each in a process of its own, for tests
and benchmarks of what only they show: faults, the access log, request framing, the largest
requests, work done beside the server."""

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.tiny import REPO

# How long a started process may take to become ready. Generous: a slow or busy machine needs
# more, and a ready process ends the wait at once.
STARTUP_DEADLINE_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(connection, artifacts_dir, *, db_port: int | None = None, **extra) -> dict:
    """The environment of a server on the test's own PostgreSQL database (committed rows are
    what it sees: transaction=True tests), reached on `db_port` if given (a relay)."""
    from django.conf import settings

    db = connection.settings_dict
    port = db_port or int(db["PORT"] or 5432)
    return {
        **os.environ,
        "TOXISCOPE_REDIS_PREFIX": settings.TOXISCOPE_REDIS_PREFIX,  # this process's (integration conftest)
        "ALLOWED_HOSTS": "127.0.0.1",
        "TOXISCOPE_ARTIFACTS_DIR": str(artifacts_dir),
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{port}/{db['NAME']}",
        **extra,
    }


def sqlite_env(var_dir, **extra) -> dict:
    """The environment `make run` gives a new user: no DATABASE_URL, so the SQLite file in
    `var_dir` (a directory of the test's own), and Redis names derived from it."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "TOXISCOPE_REDIS_PREFIX")}
    return {**env, "TOXISCOPE_VAR_DIR": str(var_dir), "HF_HUB_OFFLINE": "1", **extra}


def migrated_sqlite_env(var_dir: Path, **extra) -> dict:
    """sqlite_env with its database already migrated: a copy of one file migrated per state of
    the code and requirements (migrating SQLite takes 7 s, and four modules need one each). The
    code counts whole, not only the migrations: what migrating leaves also depends on the
    post-migrate service. The copy is made under a lock: parallel test processes migrate once."""
    key = hashlib.sha256((REPO / "requirements.txt").read_bytes())
    for source in sorted([*(REPO / "moderation").rglob("*.py"), *(REPO / "toxiscope").rglob("*.py")]):
        key.update(str(source.relative_to(REPO)).encode() + source.read_bytes())
    template = Path(tempfile.gettempdir()) / f"toxiscope-migrated-{key.hexdigest()[:16]}.sqlite3"
    with open(f"{template}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            with tempfile.TemporaryDirectory() as scratch:
                migrate = [sys.executable, "manage.py", "migrate", "--no-input"]
                subprocess.run(migrate, cwd=REPO, env=sqlite_env(scratch), check=True, capture_output=True)
                shutil.copyfile(Path(scratch) / "toxiscope.sqlite3", f"{template}.part")
                os.replace(f"{template}.part", template)
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, Path(var_dir) / "toxiscope.sqlite3")
    return sqlite_env(var_dir, **extra)


def wait_until_ready(url: str, *, deadline_s: float = STARTUP_DEADLINE_S, process=None) -> None:
    """Wait until `url` answers 200. The listening socket accepts before a worker has imported
    the app, so a refused connection, a read timeout and a non-200 answer all mean "not yet";
    only the deadline, or `process` exiting, ends the wait with a failure."""
    deadline = time.monotonic() + deadline_s
    last = "no answer"
    while True:
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"status {response.status_code}"
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = type(exc).__name__
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({process.returncode}) before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} was not ready within {deadline_s:.0f} s (last: {last})")
        time.sleep(0.1)


def gunicorn_command(port: int, workers: int, *args: str) -> list[str]:
    """gunicorn as `make run` starts it: the production settings (toxiscope/gunicorn_conf.py)."""
    conf = ["-c", "python:toxiscope.gunicorn_conf"]
    bind = ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    return [sys.executable, "-m", "gunicorn", "toxiscope.wsgi", *conf, *bind, *args]


@contextmanager
def gunicorn(env: dict, *args: str) -> Iterator[str]:
    """One gunicorn worker with the production settings, `env` and extra `args`; yields its base
    URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        gunicorn_command(port, 1, *args),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/healthz", process=process)
        yield base
    finally:
        # SIGQUIT: gunicorn's quick shutdown; SIGTERM's graceful one waits for open connections.
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=30)


def celery_worker_command(*args: str) -> list[str]:
    """A Celery worker on the default queue (scoring, webhooks), one process."""
    return [sys.executable, "-m", "celery", "-A", "toxiscope", "worker", "-Q", "default", "--concurrency", "1", *args]


def wait_for_worker(env: dict, process: subprocess.Popen) -> None:
    """Until the Celery worker answers a ping (it consumes nothing before), or the deadline."""
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    ping = [sys.executable, "-m", "celery", "-A", "toxiscope", "inspect", "ping", "--timeout", "1"]
    while subprocess.run(ping, cwd=REPO, env=env, capture_output=True).returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not answer a ping")


@contextmanager
def celery_worker(env: dict, log: Path, *args: str) -> Iterator[None]:
    """A worker with `env` and extra `args`, until the block ends (its pool child included),
    ready once its log (`log`) says so: no ping process to start, each of which costs seconds.
    Give `env` a TOXISCOPE_REDIS_PREFIX of its own, and no earlier test's queued work reaches it."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            celery_worker_command("--loglevel", "INFO", "--without-gossip", "--without-mingle", *args),
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while " ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
