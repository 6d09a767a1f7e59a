"""End-to-end latency of `POST /api/v1/comments/` on the real server (gunicorn) with the
BERT-tiny-shaped model: one client, then several concurrent ones, each for a bounded time and
request count, with real Jigsaw comments; then a fixed rate (50 req/s, open loop); then batch
submits of 1,000 comments.

It runs on `platform_under_test`: its own PostgreSQL database (dropped afterwards; or, with
--database sqlite, the SQLite file a new user gets), a scratch model trained for one epoch on
the demo set and promoted (with its cascade band, where the training chose one), gunicorn on a
free loopback port.
Usage: python bench/api_latency.py [--seconds 20] [--clients 4] [--workers 2] [--database sqlite]
"""

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from common import corpus, write_result
from platform_under_test import platform, post


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


def fixed_rate(port: int, key: str, texts: list[str], rate: float, seconds: float) -> dict:
    """Open loop: a submit every 1/rate seconds, whether or not earlier ones have answered, the
    way independent clients arrive. Latency counts from the planned send time, so a stalled
    server cannot hide its queue (no coordinated omission)."""
    latencies, errors = [], []
    lock = threading.Lock()
    started = time.perf_counter()

    def send(index: int, planned: float) -> None:
        status, _ = post(port, key, {"text": texts[index % len(texts)], "external_id": f"rate-{index}"})
        elapsed = time.perf_counter() - planned
        with lock:
            (latencies if status == 201 else errors).append(elapsed if status == 201 else status)

    with ThreadPoolExecutor(max_workers=64) as pool:
        for index in range(int(rate * seconds)):
            planned = started + index / rate
            time.sleep(max(0.0, planned - time.perf_counter()))
            pool.submit(send, index, planned)
    ms = np.array(latencies) * 1000
    return {
        "rate_rps": rate,
        "seconds": seconds,
        "requests": len(latencies),
        "errors": len(errors),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget of each load phase")
    parser.add_argument("--max-requests", type=int, default=5000, help="request budget of each load phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second of the fixed-rate phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--batches", type=int, default=5, help="batch submits of 1,000 comments")
    parser.add_argument("--scoring-threads", type=int, default=1, help="TOXISCOPE_SCORING_THREADS")
    parser.add_argument(
        "--database", choices=("postgres", "sqlite"), default="postgres", help="sqlite: what `make run` gives"
    )
    parser.add_argument(
        "--tfidf-blend",
        type=float,
        help="the model's TF-IDF share (default: TrainConfig's); 0 for the transformer alone",
    )
    args = parser.parse_args()
    examples, source = corpus()
    texts = [example.text for example in examples]

    with platform(
        db_name="toxiscope_bench",
        database=args.database,
        workers=args.workers,
        scoring_threads=args.scoring_threads,
        # Lifted, as the batch size is: the batch phase measures scoring in the request.
        extra_env={"TOXISCOPE_SYNC_BATCH_MAX": "1000", "TOXISCOPE_SYNC_SCORING_CHARS": "100000000"},
        train_args=() if args.tfidf_blend is None else ("--tfidf-blend", str(args.tfidf_blend)),
    ) as (port, key, _):  # the batch phase is sync
        single = load(port, key, texts, 1, args.seconds, args.max_requests)
        concurrent = load(port, key, texts, args.clients, args.seconds, args.max_requests)
        steady = fixed_rate(port, key, texts, args.rate, args.seconds)
        batch_rates = []
        for b in range(args.batches):
            batch = [{"text": texts[(b * 1000 + i) % len(texts)], "external_id": f"batch-{b}-{i}"} for i in range(1000)]
            status, elapsed = post(port, key, batch)
            if status == 201:
                batch_rates.append(1000 / elapsed)

    for phase in (single, concurrent):
        print(
            f"{phase['clients']} client(s): {phase['requests']} submits, {phase['errors']} errors, "
            f"p50 {phase['p50_ms']:.1f} ms, p95 {phase['p95_ms']:.1f} ms, p99 {phase['p99_ms']:.1f} ms, "
            f"{phase['throughput_rps']:.0f} req/s"
        )
    print(
        f"fixed rate {steady['rate_rps']:g} req/s for {steady['seconds']:g} s: {steady['errors']} errors, "
        f"p50 {steady['p50_ms']:.1f} ms, p95 {steady['p95_ms']:.1f} ms, p99 {steady['p99_ms']:.1f} ms"
    )
    print(f"batch submit of 1,000 (sync, scored + routed + stored): median {np.median(batch_rates):.0f} comments/s")
    blend = "" if args.tfidf_blend is None else f"_blend{args.tfidf_blend:g}"
    database = "" if args.database == "postgres" else f"_{args.database}"
    write_result(
        f"api_latency_threads{args.scoring_threads}{blend}{database}",
        {
            "database": args.database,
            "tfidf_blend": args.tfidf_blend,
            "data": source,
            "gunicorn_workers": args.workers,
            "scoring_threads": args.scoring_threads,
            "single_client": single,
            "concurrent": concurrent,
            "fixed_rate": steady,
            "batch_1000_comments_per_s": {"median": float(np.median(batch_rates)), "all": batch_rates},
            "targets": {
                "p50_ms_single": 8,
                "p99_ms_single": 20,
                "concurrent_rps": 250,
                "concurrent_p99_ms": 40,
                "batch_comments_per_s": 3000,
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
