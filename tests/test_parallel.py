import os

import pytest
from django.conf import settings

from tests.parallel import _worker_cache_url


def test_each_worker_takes_the_redis_database_below_the_last():
    assert _worker_cache_url("redis://127.0.0.1:6379/14", 0) == "redis://127.0.0.1:6379/14"
    assert _worker_cache_url("redis://:secret@redis:6379/14", 1) == "redis://:secret@redis:6379/13"
    with pytest.raises(RuntimeError, match="too few Redis databases"):
        _worker_cache_url("redis://127.0.0.1:6379/1", 2)


def test_under_xdist_this_worker_has_redis_names_of_its_own():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        pytest.skip("not run by pytest-xdist (`make test` runs it so)")
    assert settings.TOXISCOPE_REDIS_PREFIX.endswith(f"-{worker}")
    assert settings.CACHES["default"]["KEY_PREFIX"] == settings.TOXISCOPE_REDIS_PREFIX
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] == f"{settings.TOXISCOPE_REDIS_PREFIX}:"
    assert settings.CACHES["default"]["LOCATION"] == os.environ["TOXISCOPE_CACHE_URL"]
