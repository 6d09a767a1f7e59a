"""gunicorn settings (`-c python:toxiscope.gunicorn_conf`): an access log without API keys, and
/metrics across worker processes.

The launcher empties PROMETHEUS_MULTIPROC_DIR before starting anything (`make run` does);
gunicorn must not, as a Celery worker on the same host may already be writing there.
"""

import os

from prometheus_client import multiprocess

from toxiscope.request_log import RedactingAccessLogger

logger_class = RedactingAccessLogger


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
