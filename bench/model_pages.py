"""How fast the admins' model pages answer, on the real server (gunicorn + PostgreSQL + a Celery
worker): a version page and the compare page when a candidate is new (cold: nothing measured
yet, the page asks a worker), how long the worker takes to measure it, and both pages once
measured (warm). The issue's targets: a version page at most 1 s warm and 3 s cold, compare at
most 3 s.

The platform trains two small versions on the demo set: the first is promoted, the second is
the candidate.
Usage: python bench/model_pages.py [--repeats 5]
"""

import argparse
import statistics
import subprocess
import sys
import time

from common import REPO, write_result
from platform_under_test import platform
from review_latency import PASSWORD, Browser

MEASURED = "Routes that would change"


def timed(browser: Browser, path: str) -> tuple[float, str]:
    status, page, elapsed = browser.request("GET", path)
    if status != 200:
        raise SystemExit(f"GET {path}: HTTP {status}")
    return elapsed, page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results: dict = {}
    with platform(db_name="toxiscope_bench_model_pages", celery=True) as (port, _key, env):

        def manage(*command: str) -> str:
            done = subprocess.run(
                [sys.executable, "manage.py", *command], cwd=REPO, env=env, capture_output=True, text=True
            )
            if done.returncode:
                raise SystemExit(done.stderr[-2000:])
            return done.stdout

        setup = (
            "from django.contrib.auth.hashers import make_password;"
            "from tests.factories import AdminFactory;"
            f"AdminFactory(username='ada', password=make_password('{PASSWORD}'))"
        )
        manage("shell", "-c", setup)
        browser = Browser(port)
        browser.log_in("ada")
        started = time.perf_counter()
        manage("train", "--max-epochs", "1")  # the candidate; its measure job is queued on commit
        trained_s = time.perf_counter() - started
        latest = "ModelVersion.objects.filter(status='candidate').latest('created_at').pk"
        # The shell prints what it imported first: the id is the last line.
        answer = manage("shell", "-c", f"from moderation.models import ModelVersion; print({latest})")
        candidate = int(answer.split()[-1])
        version_cold, version_page = timed(browser, f"/models/{candidate}/")
        compare_cold, compare_page = timed(browser, f"/models/{candidate}/compare/")
        waited = time.perf_counter()
        while MEASURED not in compare_page:
            if time.perf_counter() - waited > 600:
                raise SystemExit("the worker did not measure the candidate within 10 minutes")
            time.sleep(0.5)
            _, compare_page = timed(browser, f"/models/{candidate}/compare/")
        measured_s = time.perf_counter() - waited
        warm = {
            name: [timed(browser, path)[0] for _ in range(args.repeats)]
            for name, path in (
                ("version_page", f"/models/{candidate}/"),
                ("compare", f"/models/{candidate}/compare/"),
                ("models_list", "/models/"),
            )
        }
        results = {
            "candidate_training_s": round(trained_s, 1),
            "cold": {
                "version_page_s": round(version_cold, 3),
                "version_page_showed": "measuring" if "Not measured yet" in version_page else "measured",
                "compare_s": round(compare_cold, 3),
                "compare_showed": "measuring" if 'id="comparing"' in compare_page else "measured",
            },
            "worker_measure_s": round(measured_s, 1),
            "warm_median_s": {name: round(statistics.median(values), 3) for name, values in warm.items()},
            "warm_max_s": {name: round(max(values), 3) for name, values in warm.items()},
            "repeats": args.repeats,
        }
    print(
        f"cold: version page {results['cold']['version_page_s']} s, compare {results['cold']['compare_s']} s; "
        f"the worker measured the candidate in {results['worker_measure_s']} s; warm medians "
        + ", ".join(f"{name} {value} s" for name, value in results["warm_median_s"].items())
    )
    write_result("model_pages", results)


if __name__ == "__main__":
    main()
