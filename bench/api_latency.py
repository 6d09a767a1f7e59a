"""End-to-end latency of `POST /api/v1/comments/` on the real server (gunicorn) with the
BERT-tiny-shaped model: one client, then several concurrent ones, each for a bounded time and
request count, with real Jigsaw comments; then batch submits of 1,000 comments.

It creates (and drops afterwards) its own PostgreSQL database, trains a scratch model for one
epoch on the demo set, promotes it, and starts gunicorn on a free loopback port.
Usage: python bench/api_latency.py [--seconds 20] [--clients 4] [--workers 2]
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import psycopg
from common import DEMO_CSV, REPO, corpus, write_result

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "toxiscope_bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def recreate_database() -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def post(port: int, key: str, payload) -> tuple[int, float]:
    body = json.dumps(payload)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    connection.request(
        "POST",
        "/api/v1/comments/",
        body=body,
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, elapsed


def load(port: int, key: str, texts: list[str], clients: int, seconds: float, max_requests: int) -> dict:
    """`clients` threads each submit single comments until the time or request budget runs out."""
    latencies, errors = [], []
    lock = threading.Lock()
    counter = iter(range(max_requests))
    deadline = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            status, elapsed = post(port, key, {"text": texts[index % len(texts)], "external_id": f"{clients}-{index}"})
            with lock:
                (latencies if status == 201 else errors).append(elapsed if status == 201 else status)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "throughput_rps": len(latencies) / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget of each load phase")
    parser.add_argument("--max-requests", type=int, default=5000, help="request budget of each load phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--batches", type=int, default=5, help="batch submits of 1,000 comments")
    parser.add_argument("--torch-threads", type=int, default=1, help="TOXISCOPE_TORCH_THREADS (0: all cores)")
    args = parser.parse_args()
    examples, source = corpus()
    texts = [example.text for example in examples]

    recreate_database()
    var = tempfile.mkdtemp(prefix="toxiscope-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "TOXISCOPE_VAR_DIR": var,
        "HF_HUB_OFFLINE": "1",
        "DATABASE_CONN_MAX_AGE": "600",
        "TOXISCOPE_TORCH_THREADS": str(args.torch_threads),
        "TOXISCOPE_SYNC_BATCH_MAX": "1000",
        "TOXISCOPE_RATE_PER_KEY": "1000000/min",  # measure the server, not the rate limit
    }  # the batch phase measures synchronous scoring
    server = None
    try:
        manage(env, "migrate", "--no-input")
        manage(env, "import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
        manage(env, "train", "--epochs", "1", "--promote")
        key = manage(env, "create_api_key", "bench").strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "toxiscope.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
        )
        deadline = time.time() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        for _ in range(20):  # warm every worker: the first request in each loads the model
            post(port, key, {"text": "warm-up"})

        single = load(port, key, texts, 1, args.seconds, args.max_requests)
        concurrent = load(port, key, texts, args.clients, args.seconds, args.max_requests)
        batch_rates = []
        for b in range(args.batches):
            batch = [{"text": texts[(b * 1000 + i) % len(texts)], "external_id": f"batch-{b}-{i}"} for i in range(1000)]
            status, elapsed = post(port, key, batch)
            if status == 201:
                batch_rates.append(1000 / elapsed)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database()

    for phase in (single, concurrent):
        print(
            f"{phase['clients']} client(s): {phase['requests']} submits, {phase['errors']} errors, "
            f"p50 {phase['p50_ms']:.1f} ms, p95 {phase['p95_ms']:.1f} ms, p99 {phase['p99_ms']:.1f} ms, "
            f"{phase['throughput_rps']:.0f} req/s"
        )
    print(f"batch submit of 1,000 (sync, scored + routed + stored): median {np.median(batch_rates):.0f} comments/s")
    write_result(
        f"api_latency_threads{args.torch_threads}",
        {
            "data": source,
            "gunicorn_workers": args.workers,
            "torch_threads": args.torch_threads,
            "single_client": single,
            "concurrent": concurrent,
            "batch_1000_comments_per_s": {"median": float(np.median(batch_rates)), "all": batch_rates},
            "targets": {"p50_ms_single": 15, "batch_comments_per_s": 2000},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
