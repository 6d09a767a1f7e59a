"""The real web server (gunicorn) in a process of its own, for tests of what only it shows:
faults, the access log, request framing, the largest requests."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from tests.tiny import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(connection, artifacts_dir, *, db_port: int | None = None, **extra) -> dict:
    """The environment of a server on the test's own PostgreSQL database (committed rows are
    what it sees: transaction=True tests), reached on `db_port` if given (a relay)."""
    db = connection.settings_dict
    port = db_port or int(db["PORT"] or 5432)
    return {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TOXISCOPE_ARTIFACTS_DIR": str(artifacts_dir),
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{port}/{db['NAME']}",
        **extra,
    }


def sqlite_env(var_dir, **extra) -> dict:
    """The environment `make run` gives a new user: no DATABASE_URL, so the SQLite file in
    `var_dir` (a directory of the test's own)."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return {**env, "TOXISCOPE_VAR_DIR": str(var_dir), "HF_HUB_OFFLINE": "1", **extra}


@contextmanager
def gunicorn(env: dict, *args: str) -> Iterator[str]:
    """One gunicorn worker with `env` and extra `args`; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "toxiscope.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                assert time.time() < deadline and process.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
