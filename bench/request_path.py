"""The request path a new user gets (`make run`: gunicorn's 2 gevent workers, the SQLite default,
the shipped starter model): one client, one kept-alive connection, one request at a time, and
the p50 of each of `GET /healthz` (the floor), `POST /api/v1/analyze/` (score one short real
comment) and `POST /api/v1/comments/` (score, route and store it).

Each checkout given with --repo is set up side by side and measured in turn, round after round,
so that a before/after pair shares the machine's noise (`git worktree add /tmp/before REV`).
Usage: python bench/request_path.py [--rounds 5] [--requests 300] [--repo /tmp/before] [--repo .]
"""

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from boot_time import python_of
from common import REPO, corpus, write_result

from tests.servers import free_port, sqlite_env, wait_until_ready

KEY_SCRIPT = """
from django.contrib.auth.models import Group, User
from moderation.roles import API_CLIENT
from moderation.services import api_key_create
user = User.objects.create_user("bench")
user.groups.add(Group.objects.get(name=API_CLIENT))
print(api_key_create(user=user, name="bench")[1])
"""


@contextmanager
def server(repo: Path):
    """`make run`'s web server for `repo` on a SQLite file of its own; yields (port, key)."""
    with tempfile.TemporaryDirectory(prefix="toxiscope-path-") as var:
        env = sqlite_env(
            var, ALLOWED_HOSTS="127.0.0.1", TOXISCOPE_RATE_PER_KEY="1000000/min", TOXISCOPE_SCORING_THREADS="1"
        )
        python = python_of(repo)
        for args in (["migrate", "--no-input"], ["install_starter_model"]):
            subprocess.run([python, "manage.py", *args], cwd=repo, env=env, check=True, capture_output=True)
        shell = [python, "manage.py", "shell", "-c", KEY_SCRIPT]
        key = subprocess.run(shell, cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.split()[-1]
        port = free_port()
        command = [python, "-m", "gunicorn", "toxiscope.wsgi", "-c", "python:toxiscope.gunicorn_conf"]
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_ready(f"http://127.0.0.1:{port}/healthz", process=process)
            yield port, key
        finally:
            process.terminate()
            process.wait(timeout=30)


def p50_ms(port: int, key: str, texts: list[str], requests: int) -> dict[str, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}

    def send(method: str, path: str, body=None) -> float:
        started = time.perf_counter()
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        assert response.status in (200, 201), (path, response.status)
        return elapsed

    calls = {
        "healthz": lambda i: send("GET", "/healthz"),
        "analyze": lambda i: send("POST", "/api/v1/analyze/", {"text": texts[i % len(texts)]}),
        "submit": lambda i: send("POST", "/api/v1/comments/", {"text": texts[i % len(texts)]}),
    }
    result = {}
    for name, call in calls.items():
        for i in range(20):  # both workers loaded and warm
            call(i)
        result[name] = statistics.median(call(i) for i in range(requests)) * 1000
    connection.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300, help="of each kind, a round")
    parser.add_argument("--repo", type=Path, action="append", help="a checkout to measure (default: this one)")
    args = parser.parse_args()
    repos = [repo.resolve() for repo in (args.repo or [REPO])]
    examples, source = corpus()
    texts = [example.text for example in examples if len(example.text.split()) <= 20][:200]

    with ExitStack() as stack:
        servers = {repo: stack.enter_context(server(repo)) for repo in repos}
        rounds: dict[Path, list[dict[str, float]]] = {repo: [] for repo in repos}
        for _ in range(args.rounds):
            for repo, (port, key) in servers.items():
                rounds[repo].append(p50_ms(port, key, texts, args.requests))

    rows = []
    for repo in repos:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        row = {
            "repo": str(repo),
            "revision": revision,
            **{name: statistics.median(r[name] for r in rounds[repo]) for name in ("healthz", "analyze", "submit")},
            "rounds": rounds[repo],
        }
        rows.append(row)
        print(
            f"{repo} ({revision}): p50 healthz {row['healthz']:.2f} ms, analyze {row['analyze']:.2f} ms, "
            f"submit {row['submit']:.2f} ms"
        )
    write_result(
        "request_path",
        {
            "data": source,
            "short_comments": len(texts),
            "requests_per_kind_and_round": args.requests,
            "checkouts": rows,
            "targets_ms": {"healthz": 0.8, "analyze": "healthz + 2", "submit": "analyze + 2"},
        },
    )


if __name__ == "__main__":
    sys.exit(main())
