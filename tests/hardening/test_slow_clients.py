"""Slow and malformed clients against the real server, as `make run` starts it (gunicorn with
toxiscope/gunicorn_conf.py, one worker, the SQLite default): idle connections stall no one, and
what gunicorn answers itself is JSON."""

import json
import socket
import time

import pytest
import requests

from tests.servers import gunicorn, migrated_sqlite_env

pytestmark = pytest.mark.slow
HALF_OPEN = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = migrated_sqlite_env(tmp_path_factory.mktemp("slow") / "var", ALLOWED_HOSTS="127.0.0.1")
    with gunicorn(env) as base:
        yield base


def _raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_fifty_half_open_connections_stall_no_one(server):
    host, port = server.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(HALF_OPEN)]
    try:
        for sock in idle:
            sock.sendall(b"GET /heal")  # half a request line, and then nothing
        time.sleep(0.5)
        for _ in range(3):
            # A sync worker answers none of these until it kills itself (30 s).
            assert requests.get(f"{server}/healthz", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (b"X-Big: " + b"a" * 9000 + b"\r\n", 431),
        (b"".join(b"X-H%d: v\r\n" % i for i in range(120)), 431),
        (b"Content-Length: 12abc\r\n", 400),
    ],
    ids=["header-over-8k", "over-100-headers", "malformed-content-length"],
)
def test_what_gunicorn_refuses_on_an_api_path_is_json(server, headers, status):
    request = b"POST /api/v1/comments/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"
    code, response_headers, body = _raw(server, request)
    assert code == status
    assert response_headers["content-type"] == "application/json"
    assert b"<html" not in body.lower()
    assert json.loads(body)["status"] == status
