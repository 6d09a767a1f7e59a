"""Helpers shared by the benchmarks: data, machine description, result files."""

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from training import DEFAULT_LABELS  # noqa: E402
from training.data import read_csv_examples  # noqa: E402

RESULTS = REPO / "bench" / "results"
DEMO_CSV = REPO / "moderation" / "fixtures" / "demo_comments.csv"
JIGSAW_CSV = REPO.parent / "shared" / "data" / "jigsaw_sample.csv"


def machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def corpus() -> tuple[list, str]:
    """Real Jigsaw comments when ../shared is here, else the synthetic demo set."""
    if JIGSAW_CSV.is_file():
        return read_csv_examples(JIGSAW_CSV, DEFAULT_LABELS), "jigsaw_sample.csv"
    print(f"NOTE: {JIGSAW_CSV} not found; using the synthetic demo set", file=sys.stderr)
    return read_csv_examples(DEMO_CSV, DEFAULT_LABELS), "demo_comments.csv"


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    result = {"benchmark": name, "measured_at": datetime.now(UTC).isoformat(), "machine": machine(), **result}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(path)
    print(f"wrote {path.relative_to(REPO)}")
    return path
