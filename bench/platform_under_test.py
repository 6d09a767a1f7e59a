"""The real platform for a benchmark: its own PostgreSQL database (or, with database="sqlite",
the SQLite file `make run` gives a new user), a promoted scratch model, an API key, gunicorn on a
free loopback port, and optionally a Celery worker. Everything is removed again on exit."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import psycopg
from common import DEMO_CSV, REPO

from tests.servers import celery_worker_command, free_port, gunicorn_command, wait_for_worker, wait_until_ready

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _drop(db_name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")


def post(port: int, key: str, payload, query: str = "") -> tuple[int, float]:
    """POST to /api/v1/comments/; returns (status, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request(
        "POST",
        f"/api/v1/comments/{query}",
        body=json.dumps(payload),
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.perf_counter() - started


@contextmanager
def platform(
    *,
    db_name: str,
    database: str = "postgres",
    workers: int = 2,
    scoring_threads: int = 1,
    celery: bool = False,
    extra_env=None,
    train_args=(),
):
    """Yields (port, api_key, env) with the server up; `train_args` go to `manage.py train`."""
    var = tempfile.mkdtemp(prefix="toxiscope-bench-")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    if database == "postgres":
        _drop(db_name)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {db_name}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db_name}"
    env = {
        **env,
        "TOXISCOPE_VAR_DIR": var,
        "HF_HUB_OFFLINE": "1",
        "DATABASE_CONN_MAX_AGE": "600",
        "TOXISCOPE_SCORING_THREADS": str(scoring_threads),
        "TOXISCOPE_RATE_PER_KEY": "1000000/min",  # measure the server, not the rate limit
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
        **(extra_env or {}),
    }
    processes = []

    def manage(*args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
        if result.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    try:
        manage("migrate", "--no-input")
        manage("collectstatic", "--no-input", "--verbosity", "0")
        manage("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
        manage("train", "--max-epochs", "1", *train_args, "--promote")
        key = manage("create_api_key", "bench").strip().splitlines()[-1]
        port = free_port()
        processes.append(
            subprocess.Popen(
                gunicorn_command(port, workers, "--log-level", "warning"),
                cwd=REPO,
                env=env,
            )
        )
        if celery:
            subprocess.run(
                [sys.executable, "-m", "celery", "-A", "toxiscope", "purge", "-f", "-Q", "default"],
                cwd=REPO,
                env=env,
                capture_output=True,
            )
            processes.append(
                subprocess.Popen(
                    celery_worker_command("--loglevel", "WARNING"),
                    cwd=REPO,
                    env=env,
                )
            )
        try:
            wait_until_ready(f"http://127.0.0.1:{port}/healthz", process=processes[0])
        except RuntimeError as exc:
            raise SystemExit(f"gunicorn did not start: {exc}") from None
        if celery:
            try:
                wait_for_worker(env, processes[1])
            except RuntimeError as exc:
                raise SystemExit(str(exc)) from None
        for _ in range(4 * workers):  # the first request in each worker loads the model
            post(port, key, {"text": "warm-up"})
        yield port, key, env
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        if database == "postgres":
            _drop(db_name)
        shutil.rmtree(var, ignore_errors=True)
