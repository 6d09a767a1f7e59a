"""What each middleware costs a request: `/healthz` (the floor: a view that does nothing) through
the WSGI application in this process, with the full middleware stack and with each middleware
left out in turn, on the SQLite default. In-process, so gunicorn's own parsing and the socket
are not in it: the differences between rows are what each middleware adds to every request.

Usage: python bench/request_floor.py [--requests 3000]
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time

from common import REPO, write_result

SESSION_GROUP = {"SessionMiddleware", "AuthenticationMiddleware", "MessageMiddleware", "AxesMiddleware"}


def environ() -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def per_request_us(application, requests: int) -> float:
    """The median of five runs' mean microseconds a request."""

    def start_response(status, headers, exc_info=None):
        assert status.startswith("200"), status

    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(requests):
            for _chunk in application(environ(), start_response):
                pass
        runs.append((time.perf_counter() - started) / requests * 1e6)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("TOXISCOPE_VAR_DIR", tempfile.mkdtemp(prefix="toxiscope-floor-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toxiscope.settings")
    sys.path.insert(0, str(REPO))
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    django.setup()
    import logging

    logging.disable(logging.CRITICAL)  # the access log is its own cost, measured as a row below
    full = list(settings.MIDDLEWARE)
    # These need each other (a user needs a session; messages and axes need the user): left out together.
    session_group = [name for name in full if name.rsplit(".", 1)[-1] in SESSION_GROUP]
    variants = {"all middleware": full, "no middleware": []}
    variants |= {name: [m for m in full if m != name] for name in full if name not in session_group}
    variants["sessions, auth, messages, axes"] = [m for m in full if m not in session_group]
    results = {}
    for name, stack in variants.items():
        settings.MIDDLEWARE = stack
        application = WSGIHandler()
        per_request_us(application, 200)  # warm
        results[name] = round(per_request_us(application, args.requests), 1)
        print(f"{name:55} {results[name]:8.1f} µs")
    baseline = results["all middleware"]
    write_result(
        "request_floor",
        {
            "requests": args.requests,
            "us_per_request": results,
            "cost_of_each_us": {
                name: round(baseline - value, 1) for name, value in results.items() if name != "all middleware"
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
