"""gunicorn settings for /metrics across worker processes (`-c python:toxiscope.gunicorn_conf`).

The launcher empties PROMETHEUS_MULTIPROC_DIR before starting anything (`make run` does);
gunicorn must not, as a Celery worker on the same host may already be writing there.
"""

import os

from prometheus_client import multiprocess


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
