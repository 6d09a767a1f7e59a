"""How long a web worker takes to become ready: from starting gunicorn (one sync worker, the
SQLite default of `make run`) to its first 200 from /healthz, and the bare `import
toxiscope.wsgi` that dominates it. A new host is ready when its workers are.

Each checkout given with --repo is measured in turn, round after round, so that a before/after
pair shares the machine's noise (`git worktree add /tmp/before REV` makes the "before").
Usage: python bench/boot_time.py [--rounds 5] [--repo /tmp/before] [--repo .]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, write_result

from tests.servers import free_port, sqlite_env, wait_until_ready

HEAVY = ("torch", "transformers", "sklearn", "scipy", "matplotlib")
PROBE = "import sys, time; t = time.perf_counter(); import toxiscope.wsgi; print(time.perf_counter() - t); " + (
    f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
)


def python_of(repo: Path) -> str:
    """The checkout's own virtual environment when it has one, else this interpreter."""
    own = repo / ".venv" / "bin" / "python"
    return str(own) if own.is_file() else sys.executable


def boot_seconds(repo: Path, env: dict) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [python_of(repo), "-m", "gunicorn", "toxiscope.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", deadline_s=120, process=process)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def import_probe(repo: Path, env: dict) -> tuple[float, list[str]]:
    out = subprocess.run(
        [python_of(repo), "-c", PROBE], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return float(out[0]), [name for name in out[1].split(",") if name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repo", action="append", type=Path, help="a checkout to measure (repeatable)")
    args = parser.parse_args()
    repos = [path.resolve() for path in (args.repo or [REPO])]
    samples: dict[Path, dict[str, list]] = {repo: {"boot": [], "import": []} for repo in repos}
    heavy: dict[Path, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="toxiscope-boot-") as root:
        envs = {}
        for index, repo in enumerate(repos):
            envs[repo] = sqlite_env(Path(root) / str(index), ALLOWED_HOSTS="127.0.0.1")
            subprocess.run(
                [python_of(repo), "manage.py", "migrate", "--no-input"],
                cwd=repo,
                env=envs[repo],
                check=True,
                capture_output=True,
            )
        for _ in range(args.rounds):
            for repo in repos:
                samples[repo]["boot"].append(boot_seconds(repo, envs[repo]))
                seconds, heavy[repo] = import_probe(repo, envs[repo])
                samples[repo]["import"].append(seconds)
    result = {"rounds": args.rounds, "checkouts": {}}
    for repo in repos:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        boot, imports = samples[repo]["boot"], samples[repo]["import"]
        row = {
            "revision": revision,
            "boot_to_first_healthz_s": {"median": statistics.median(boot), "all": boot},
            "import_wsgi_s": {"median": statistics.median(imports), "all": imports},
            "heavy_modules_at_start": heavy[repo],
        }
        result["checkouts"][str(repo)] = row
        print(
            f"{repo} ({revision}): boot to first /healthz {row['boot_to_first_healthz_s']['median']:.2f} s, "
            f"import {row['import_wsgi_s']['median']:.2f} s, heavy modules at start: {', '.join(heavy[repo]) or 'none'}"
        )
    write_result("boot_time", result)


if __name__ == "__main__":
    main()
