"""Nothing lost under load: several clients send a burst of comments (batches, async, with
retries that reuse their external_ids) to the real server + worker; then the database must
hold exactly one comment per external_id, each with a prediction and a route.

Usage: python bench/ingest_load.py [--database postgres|sqlite] [--comments 20000] [--clients 4] [--batch 100]
                                   [--retry-share 0.1]
"""

import argparse
import random
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from common import corpus, write_result
from platform_under_test import platform, post

DB = "toxiscope_ingest"


@contextmanager
def connect(database: str, env: dict):
    if database == "postgres":
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}", autocommit=True) as connection:
            yield connection
        return
    connection = sqlite3.connect(Path(env["TOXISCOPE_VAR_DIR"]) / "toxiscope.sqlite3", timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--retry-share", type=float, default=0.1, help="share of batches sent twice")
    parser.add_argument("--drain-timeout-s", type=float, default=300)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    examples, source = corpus()
    batches = [
        [
            {"text": examples[i % len(examples)].text, "external_id": f"load-{i}"}
            for i in range(start, min(start + args.batch, args.comments))
        ]
        for start in range(0, args.comments, args.batch)
    ]
    rng = random.Random(7)
    # A client whose answer was lost sends the same batch again: same external_ids.
    sends = batches + [batch for batch in batches if rng.random() < args.retry_share]
    rng.shuffle(sends)

    with platform(db_name=DB, database=args.database, celery=True) as (port, key, env):
        statuses, lock, cursor = {}, threading.Lock(), iter(range(len(sends)))

        def client():
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                for attempt in range(5):  # retry on any failure, as a careful client does
                    status, _ = post(port, key, sends[index], query="?async=1")
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
                    if status < 500:
                        break
                    time.sleep(0.2 * (attempt + 1))

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent_s = time.perf_counter() - started

        deadline = time.perf_counter() + args.drain_timeout_s
        with connect(args.database, env) as connection:
            while True:
                waiting = connection.execute(
                    "SELECT count(*) FROM moderation_comment WHERE client_id IS NOT NULL AND route_action = ''"
                ).fetchone()[0]
                if waiting == 0 or time.perf_counter() > deadline:
                    break
                time.sleep(1)
            routed_s = time.perf_counter() - started
            stored, distinct, with_prediction, routed = connection.execute("""
                SELECT count(*), count(DISTINCT external_id),
                       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM moderation_prediction p WHERE p.comment_id = c.id)),
                       count(*) FILTER (WHERE route_action <> '')
                FROM moderation_comment c WHERE client_id IS NOT NULL AND external_id LIKE 'load-%'
            """).fetchone()

    ok = stored == distinct == with_prediction == routed == args.comments
    result = {
        "data": source,
        "database": args.database,
        "comments": args.comments,
        "clients": args.clients,
        "batch": args.batch,
        "requests": len(sends),
        "retried_batches": len(sends) - len(batches),
        "statuses": statuses,
        "send_s": sent_s,
        "accepted_per_s": args.comments / sent_s,
        "all_routed_s": routed_s,
        "routed_per_s": args.comments / routed_s,
        "stored": stored,
        "distinct_external_ids": distinct,
        "with_prediction": with_prediction,
        "routed": routed,
        "nothing_lost_no_duplicates": ok,
    }
    print(
        f"{len(sends)} requests ({result['retried_batches']} retried batches) from {args.clients} clients: "
        f"statuses {statuses}; accepted {result['accepted_per_s']:.0f} comments/s, all routed after "
        f"{routed_s:.1f} s ({result['routed_per_s']:.0f}/s)"
    )
    print(
        f"stored {stored}, distinct external_ids {distinct}, with a prediction {with_prediction}, "
        f"routed {routed} (expected {args.comments} each): {'OK' if ok else 'MISMATCH'}"
    )
    write_result("ingest_load" if args.database == "postgres" else f"ingest_load_{args.database}", result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
