"""How fast the moderators' workspace answers: the round trip from pressing a key (approve or
reject) to the next comment on screen, as the browser's htmx request sees it, on the real
server (gunicorn + PostgreSQL), for one moderator and for several working the same queue.

Every submitted comment is sent to review (the auto-approve rule is switched off for the run)
and gathered in one queue, so the queue holds real, scored comments.
Usage: python bench/review_latency.py [--moderators 3]
"""

import argparse
import http.client
import re
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import numpy as np
from common import REPO, corpus, write_result
from platform_under_test import platform, post

PASSWORD = "bench-password-4711"

ITEM = re.compile(r'data-item="(\d+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """A moderator's session: cookies, the CSRF token, htmx's request header."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, htmx: bool = False) -> tuple[int, str, float]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.cookies["csrftoken"]}
            headers["Referer"] = f"http://127.0.0.1:{self.port}/"
        if htmx:
            headers["HX-Request"] = "true"
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response.status, text, elapsed

    def log_in(self, username: str) -> None:
        _, page, _ = self.request("GET", "/login/")
        token = CSRF.search(page).group(1)
        status, _, _ = self.request(
            "POST", "/login/", {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        if status != 302:
            raise SystemExit(f"log-in failed for {username}: HTTP {status}")


def work(port: int, username: str, decisions: int, seen: list, latencies: list, errors: list, lock) -> None:
    browser = Browser(port)
    browser.log_in(username)
    status, page, elapsed = browser.request("GET", "/review/general/work/")
    with lock:
        latencies.setdefault("open", []).append(elapsed)
    for index in range(decisions):
        match = ITEM.search(page)
        if match is None:
            return  # the queue is empty
        item = int(match.group(1))
        form = {"action": "approve" if index % 3 else "reject", "labels": ["toxic"] if index % 3 == 0 else []}
        status, page, elapsed = browser.request("POST", f"/review/general/items/{item}/decide/", form, htmx=True)
        with lock:
            seen.append((username, item))
            if status == 200:
                latencies.setdefault("decide_next", []).append(elapsed)
            else:
                errors.append(status)


def summary(values: list[float]) -> dict:
    milliseconds = np.array(values) * 1000
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 1),
        "p95_ms": round(float(np.percentile(milliseconds, 95)), 1),
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=1500)
    parser.add_argument("--decisions", type=int, default=150, help="per moderator")
    parser.add_argument("--moderators", type=int, default=3)
    args = parser.parse_args()
    examples, source = corpus()
    texts = [example.text for example in examples]
    results = {"corpus": source, "comments": args.comments}
    with platform(db_name="toxiscope_bench_review") as (port, key, env):
        setup = (
            "from moderation.models import RoutingRule;"
            "from django.contrib.auth.hashers import make_password;"
            "from tests.factories import ModeratorFactory;"
            "RoutingRule.objects.filter(action='auto_approve').update(is_active=False);"
            # The factory's password field takes a hash (it shares one made once).
            f"hashed = make_password('{PASSWORD}');"
            f"[ModeratorFactory(username=f'mod{{i}}', password=hashed) for i in range({args.moderators})]"
        )
        subprocess.run([sys.executable, "manage.py", "shell", "-c", setup], cwd=REPO, env=env, check=True)
        time.sleep(3)  # the servers reload the routing rules every 2 s
        for start in range(0, args.comments, 100):
            batch = [{"text": texts[i % len(texts)]} for i in range(start, min(start + 100, args.comments))]
            status, _ = post(port, key, batch)
            assert status == 201, status
        # One queue for everyone: the urgent queue's share depends on the model's scores.
        gather = (
            "from moderation.models import ReviewItem, ReviewQueue;"
            "ReviewItem.objects.filter(status='open').update(queue=ReviewQueue.objects.get(slug='general'))"
        )
        subprocess.run([sys.executable, "manage.py", "shell", "-c", gather], cwd=REPO, env=env, check=True)
        for moderators in sorted({1, args.moderators}):
            seen, latencies, errors = [], {}, []
            lock = threading.Lock()
            threads = [
                threading.Thread(target=work, args=(port, f"mod{i}", args.decisions, seen, latencies, errors, lock))
                for i in range(moderators)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            items = [item for _, item in seen]
            phase = {
                "moderators": moderators,
                "decisions": len(items),
                "errors": len(errors),
                "same_item_twice": len(items) - len(set(items)),
                "decisions_per_s": round(len(items) / wall, 1),
                "open_work_page": summary(latencies["open"]),
                "decide_to_next_item": summary(latencies.get("decide_next", [0.0])),
            }
            results[f"{moderators}_moderators"] = phase
            print(
                f"{moderators} moderator(s): {phase['decisions']} decisions, {phase['errors']} errors, "
                f"{phase['same_item_twice']} items decided twice, {phase['decisions_per_s']} decisions/s; "
                f"decide → next item p50 {phase['decide_to_next_item']['p50_ms']} ms, "
                f"p95 {phase['decide_to_next_item']['p95_ms']} ms"
            )
    write_result("review_latency", results)


if __name__ == "__main__":
    main()
