"""What a one-machine install leaves readable: nothing under var/ for other local users, no API
key in the access log, no admin password in `make run`'s log."""

import http.client
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tiny import REPO


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory):
    """`make setup`'s first steps on the SQLite default, in a var/ of its own."""
    var = tmp_path_factory.mktemp("install") / "var"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {"TOXISCOPE_VAR_DIR": str(var), "HF_HUB_OFFLINE": "1"}

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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "toxiscope.wsgi", "-c", "python:toxiscope.gunicorn_conf"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", str(log)],
        cwd=REPO,
        env=env,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("POST", "/v1alpha1/comments:analyze?key=SECRETPREFIX.secretrest&x=1", body="{}")
                assert connection.getresponse().status == 401
                break
            except ConnectionRefusedError:
                assert time.time() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        # A chunked body through the real server: a clear 411, not a 400 about an empty body.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        chunks = iter([b'{"text": ', b'"hello"}'])
        connection.request(
            "POST", "/api/v1/comments/", body=chunks, headers={"Content-Type": "application/json"}, encode_chunked=True
        )
        answer = connection.getresponse()
        assert answer.status == 411 and b"Content-Length" in answer.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "comments:analyze?key=[redacted]&x=1" in text and "SECRETPREFIX" not in text
