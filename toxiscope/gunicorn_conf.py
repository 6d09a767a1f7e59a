"""gunicorn settings (`-c python:toxiscope.gunicorn_conf`): an access log without API keys, and
/metrics across worker processes.

The launcher empties PROMETHEUS_MULTIPROC_DIR before starting anything (`make run` does);
gunicorn must not, as a Celery worker on the same host may already be writing there.
"""

import os

from prometheus_client import multiprocess

from toxiscope.request_log import RedactingAccessLogger

logger_class = RedactingAccessLogger
# gunicorn's largest request line (its default is 4,094 bytes): long filter URLs reach Django,
# which answers them; beyond this gunicorn still answers its own plain 414.
limit_request_line = 8190


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
