"""A web or worker process starts without the training libraries: they cost seconds to import,
and a worker answers nothing until the app is imported (bench/boot_time.py measures it)."""

import json
import os
import subprocess
import sys

from tests.tiny import REPO

TRAINING_ONLY = ("torch", "transformers", "sklearn", "scipy", "matplotlib")


def _loaded_after(code: str, among=TRAINING_ONLY) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {tuple(among)!r} if m in sys.modules]))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "toxiscope.settings", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_web_app_and_the_worker_start_without_the_training_libraries():
    assert _loaded_after("import toxiscope.wsgi") == []
    assert _loaded_after("import django; django.setup(); import toxiscope.celery, moderation.tasks") == []


def test_scoring_with_onnx_runtime_never_loads_torch(trained_artifact):
    """sklearn may load: a version that blends TF-IDF scores with its fitted analyzers."""
    code = (
        "from training.inference import Scorer\n"
        f"scorer = Scorer({str(trained_artifact.artifact_path)!r})\n"
        "assert scorer.runtime == 'onnx'\n"
        "scorer.score(['you are an idiot', 'thanks for the fix'])\n"
        "scorer.driving_spans(['you are an idiot'])\n"
    )
    assert _loaded_after(code, among=("torch", "transformers", "matplotlib")) == []
