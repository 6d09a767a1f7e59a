"""Under pytest-xdist (`make test` runs one test worker per core), each worker is an install of
its own on the shared Redis. pytest-django already gives each its own test database; this gives
each its own Redis names, so that one worker's cache flush between tests (tests/conftest.py)
never wipes the other's rate-limit counts mid-test, and one worker's Celery worker never consumes
the other's tasks.

Loaded with `-p tests.parallel` (pytest.ini): a plugin named there is imported before
pytest-django reads the settings, which derive those names from the environment."""

import os
from urllib.parse import urlsplit, urlunsplit

DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/1"  # toxiscope/settings.py's


def _worker_cache_url(url: str, index: int) -> str:
    """The Redis database below the configured one by the worker's index: gw0 keeps it."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) - index
    if database < 0:
        raise RuntimeError(f"TOXISCOPE_CACHE_URL {url}: too few Redis databases below it for test worker {index}")
    return urlunsplit(parts._replace(path=f"/{database}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", … in a worker; unset otherwise
if _worker:
    _index = int(_worker.removeprefix("gw"))
    os.environ["TOXISCOPE_CACHE_URL"] = _worker_cache_url(
        os.environ.get("TOXISCOPE_CACHE_URL", DEFAULT_CACHE_URL), _index
    )
    os.environ["TOXISCOPE_REDIS_PREFIX"] = f"{os.environ.get('TOXISCOPE_REDIS_PREFIX', 'toxiscope-test')}-{_worker}"
