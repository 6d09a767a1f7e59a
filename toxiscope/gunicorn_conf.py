"""gunicorn settings (`-c python:toxiscope.gunicorn_conf`): workers that idle connections cannot
stall, errors in JSON, an access log without API keys, and /metrics across worker processes.

The launcher empties PROMETHEUS_MULTIPROC_DIR before starting anything (`make run` does);
gunicorn must not, as a Celery worker on the same host may already be writing there.
"""

import json
import os

from gunicorn import util
from prometheus_client import multiprocess

from toxiscope.request_log import RedactingAccessLogger

logger_class = RedactingAccessLogger
# A sync (or gthread) worker gives each connection a process (or thread) until its request has
# arrived: four clients that send half a request line stall every other client. gevent's worker
# reads requests cooperatively: an idle or slow connection costs a greenlet, not the worker
# (tests/hardening/test_slow_clients.py). Model scoring is CPU work and still takes its worker
# for its (bounded) time, as before.
worker_class = "gevent"
# At most this many connections a worker holds open; past it the worker accepts no more until
# some close, so a flood of idle connections is bounded (docs/operations.md: put a buffering
# proxy in front of an install open to the internet).
worker_connections = 1000
keepalive = 5
# Each request runs in a greenlet of its own: a database connection kept after the request
# would be kept per greenlet, and leak. Instead each worker keeps a pool that lends each request
# one: psycopg's on PostgreSQL, toxiscope/sqlite/base.py on SQLite (toxiscope/settings.py).
raw_env = ["DATABASE_CONN_MAX_AGE=0", "DATABASE_POOL=1"]
# gunicorn's largest request line (its default is 4,094 bytes): long filter URLs reach Django,
# which answers them; beyond this gunicorn still answers its own plain 414.
limit_request_line = 8190


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own answer to a request it cannot parse (a header over its limits, a bad
    Content-Length, a request line too long), in the API's error shape rather than HTML: such a
    request never reaches Django, so it is answered here, whatever its path."""
    body = json.dumps({"detail": f"{reason}: {mesg}", "status": status_int}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_json_error


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
