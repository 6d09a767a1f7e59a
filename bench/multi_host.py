"""A model's way from one host to another, through the database alone.

Two "hosts" share one PostgreSQL database and nothing on disk (each its own TOXISCOPE_VAR_DIR,
so its own artifact cache). Host A promotes a version (the service a promotion from the web page
calls, in a process with A's cache); host B is a gunicorn serving `/api/v1/analyze/`, polled
every 20 ms until it answers with the new version. The versions are the shipped starter model
(about 24 MB of files) under new names: every promotion makes B fetch all of it.

Measured:
- promotion on A → first score by the new version on B (target ≤ 3 s), with B's check interval
  (TOXISCOPE_MODEL_CHECK_INTERVAL_S, 2 s by default) reported beside: on average half of it is
  waiting for the next check;
- a rollback to a version B served before (kept loaded: no fetch);
- cold start: a new gunicorn host, empty cache, from process start to its first scored answer,
  against the same host started again with its cache filled; and, in one process, fetching a
  never-seen version from the store against loading it from the cache.

Usage: python bench/multi_host.py [--rounds 5]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests
from common import REPO, write_result
from platform_under_test import ADMIN_DSN, _drop

from tests.servers import free_port, gunicorn_command, wait_until_ready

DB = "bench_multi_host"
STARTER = REPO / "moderation" / "fixtures" / "starter" / "model"

PROMOTE = """
import os, time
from moderation.models import ModelVersion
from moderation.services import model_version_promote
model_version_promote(version=ModelVersion.objects.get(name=os.environ["VERSION"]))
print(f"promoted-at {time.time()}")
"""

COLD_LOAD = """
import os, time
from moderation.models import ModelVersion
from moderation.storage import artifact_materialise
from training.inference import Scorer
version = ModelVersion.objects.get(name=os.environ["VERSION"])
started = time.perf_counter()
path = artifact_materialise(version)
fetched = time.perf_counter()
Scorer(path, runtime="onnx", threads=1)
loaded = time.perf_counter()
artifact_materialise(version)
checked = time.perf_counter()
Scorer(path, runtime="onnx", threads=1)
print(f"timings {fetched - started} {loaded - fetched} {checked - loaded} {time.perf_counter() - checked}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (STARTER / "manifest.json").is_file():
        raise SystemExit(f"no starter model at {STARTER}")
    _drop(DB)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {DB}")
    root = Path(tempfile.mkdtemp(prefix="toxiscope-multi-host-"))
    base_env = {
        **{key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "HF_HUB_OFFLINE": "1",
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
        "TOXISCOPE_RATE_PER_KEY": "1000000/min",
        "ALLOWED_HOSTS": "127.0.0.1",
    }

    def host_env(name: str) -> dict:
        return {**base_env, "TOXISCOPE_VAR_DIR": str(root / name)}

    def manage(host: str, *command: str, **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=REPO,
            env={**host_env(host), **extra},
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"manage.py {command[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    processes: list[subprocess.Popen] = []

    def start_host(name: str) -> tuple[str, float]:
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen(gunicorn_command(port, 1, "--log-level", "warning"), cwd=REPO, env=host_env(name))
        processes.append(process)
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", process=process)
        return f"http://127.0.0.1:{port}", started

    try:
        manage("a", "migrate", "--no-input")
        manage("a", "install_starter_model")
        archive = root / "starter.tar"
        manage("a", "export_model", "starter", str(archive))
        names = [f"v{round_}" for round_ in range(1, args.rounds + 1)] + ["cold"]
        for name in names:  # the same bytes, stored once; each name a new directory for every host
            manage("a", "import_model", str(archive), "--name", name)
        key = manage("a", "create_api_key", "bench").strip().splitlines()[-1]
        session = requests.Session()
        session.headers["Authorization"] = f"Api-Key {key}"

        def served_by(base: str) -> str | None:
            answer = session.post(f"{base}/api/v1/analyze/", json={"text": "you idiot"}, timeout=60)
            return answer.json().get("model_version") if answer.status_code == 200 else None

        def first_score(base: str, name: str) -> float:
            while served_by(base) != name:
                time.sleep(0.02)
            return time.time()

        host_b, _ = start_host("b")
        first_score(host_b, "starter")

        def promote(name: str) -> float:
            output = manage("a", "shell", "-c", PROMOTE, VERSION=name)
            return float(output.split("promoted-at ")[1].split()[0])

        new_versions, rollbacks = [], []
        for name in names[:-1]:
            promoted = promote(name)
            new_versions.append(first_score(host_b, name) - promoted)
            promoted = promote("starter")  # still loaded on B: a rollback fetches nothing
            rollbacks.append(first_score(host_b, "starter") - promoted)

        # A new host with an empty cache, then the same host again with its cache filled.
        promote("cold")
        cold_starts = []
        for _ in range(2):
            base, started = start_host("c")
            first_score(base, "cold")
            cold_starts.append(time.perf_counter() - started)
            processes.pop().terminate()
        timings = manage("d", "shell", "-c", COLD_LOAD, VERSION="cold").split("timings ")[1].split()
        fetch, load, check, warm_load = (float(value) for value in timings)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        _drop(DB)
        shutil.rmtree(root, ignore_errors=True)

    artifact_mb = sum(path.stat().st_size for path in STARTER.iterdir()) / 1e6
    result = {
        "artifact_mb": round(artifact_mb, 1),
        "check_interval_s": 2.0,
        "promotion_to_first_score_on_b_s": {
            "each": [round(value, 3) for value in new_versions],
            "median": round(statistics.median(new_versions), 3),
            "max": round(max(new_versions), 3),
        },
        "rollback_to_first_score_on_b_s": {
            "each": [round(value, 3) for value in rollbacks],
            "median": round(statistics.median(rollbacks), 3),
        },
        "new_host_start_to_first_score_s": {
            "empty_cache": round(cold_starts[0], 3),
            "cache_filled": round(cold_starts[1], 3),
        },
        "in_process_s": {
            "fetch_from_store_and_verify": round(fetch, 3),
            "load_onnx": round(load, 3),
            "cached_copy_check": round(check, 4),
            "load_onnx_again": round(warm_load, 3),
        },
    }
    print(result)
    write_result("multi_host", result)


if __name__ == "__main__":
    main()
