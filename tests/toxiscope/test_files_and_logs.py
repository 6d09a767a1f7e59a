"""What a one-machine install leaves readable: nothing under var/ for other local users, no API
key in the access log, no admin password in `make run`'s log."""

import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.servers import gunicorn, sqlite_env
from tests.tiny import REPO


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory):
    """`make setup`'s first steps on the SQLite default, in a var/ of its own."""
    var = tmp_path_factory.mktemp("install") / "var"
    env = sqlite_env(var)

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )

    manage("migrate", "--no-input")
    created = manage("ensure_admin")  # stdout is a pipe, as in `make run 2>&1 | tee`
    return var, env, created.stdout


def test_var_and_its_files_are_private(fresh_install):
    var, _, _ = fresh_install
    assert _mode(var) == 0o700
    for name in ("toxiscope.sqlite3", "secret_key", "admin_password"):
        assert _mode(var / name) == 0o600, name
    assert all(_mode(path) & 0o077 == 0 for path in var.iterdir())  # the WAL and shared-memory files too


def test_a_var_made_readable_is_made_private_again_at_start(fresh_install):
    var, env, _ = fresh_install
    var.chmod(0o755)
    (var / "toxiscope.sqlite3").chmod(0o644)
    subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, check=True)
    assert _mode(var) == 0o700 and _mode(var / "toxiscope.sqlite3") == 0o600


def test_the_admin_password_is_in_a_private_file_not_the_log(fresh_install):
    var, _, output = fresh_install
    password = (var / "admin_password").read_text().strip()
    assert len(password) >= 12 and password not in output
    assert str(var / "admin_password") in output


def test_the_access_log_does_not_record_api_keys(fresh_install, tmp_path):
    _, env, _ = fresh_install
    log = tmp_path / "access.log"
    with gunicorn(env, "-c", "python:toxiscope.gunicorn_conf", "--access-logfile", str(log)) as base:
        answer = requests.post(f"{base}/v1alpha1/comments:analyze?key=SECRETPREFIX.secretrest&x=1", data="{}")
        assert answer.status_code == 401
        # A chunked body through the real server: a clear 411, not a 400 about an empty body.
        chunked = requests.post(
            f"{base}/api/v1/comments/",
            data=iter([b'{"text": ', b'"hello"}']),
            headers={"Content-Type": "application/json"},
        )
        assert chunked.status_code == 411 and "Content-Length" in chunked.text
    text = log.read_text()
    assert "comments:analyze?key=[redacted]&x=1" in text and "SECRETPREFIX" not in text
