"""The SQLite file `make run` gives a new user holds up under concurrent writers."""

import json
import subprocess
import sys

import pytest

from tests.servers import migrated_sqlite_env
from tests.tiny import REPO

pytestmark = pytest.mark.slow


def test_concurrent_submits_and_decisions_on_sqlite_never_fail(tmp_path):
    # The web workers' database settings (toxiscope/gunicorn_conf.py): each request's connection
    # closed after it and kept by the worker's pool for the next.
    env = migrated_sqlite_env(tmp_path / "var", PYTHONPATH=str(REPO), DATABASE_CONN_MAX_AGE="0", DATABASE_POOL="1")
    done = subprocess.run(
        [sys.executable, str(REPO / "tests" / "hardening" / "sqlite_load.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["submits"]) <= {"200", "201"}, result  # keys are strings in JSON
    assert sum(result["submits"].values()) == 21 and result["race_comments"] == 1 and result["batch_comments"] == 256
    assert set(result["decisions"]) <= {"200", "302"}, result  # no "database is locked" 500
    assert result["decided"] == 3 and result["shared_decisions"] == 1
