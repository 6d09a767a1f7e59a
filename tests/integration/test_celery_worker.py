"""A real worker process consumes the tasks from Redis: nothing eager, nothing mocked."""

from pathlib import Path

import pytest
from django.core.management import call_command

from moderation.models import ModelVersion, TrainingRun
from moderation.services.training import training_run_start
from tests.integration.conftest import wait_for
from tests.tiny import DEMO_CSV, tiny_config

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TINY = {k: v for k, v in tiny_config().to_dict().items() if k not in ("labels", "base_model")}
FINISHED = {"succeeded", "failed", "cancelled"}


def finished(run: TrainingRun):
    run.refresh_from_db()
    return run.status in FINISHED and run


def test_a_worker_trains_a_candidate_model_from_the_training_queue(celery_worker):
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    run = training_run_start(config=TINY)
    run = wait_for(lambda: finished(run), 240, celery_worker, "the training run")
    assert run.status == "succeeded", run.error
    assert run.celery_task_id
    version = ModelVersion.objects.get(training_run=run)
    assert Path(version.artifact_path).parent == celery_worker.artifacts_dir
    assert (Path(version.artifact_path) / "model.safetensors").is_file()
    assert run.step == run.total_steps and run.val_macro_f1 is not None


def test_a_failing_run_ends_failed_with_its_error(celery_worker, tmp_path):
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    run = training_run_start(config={**TINY, "base_model": str(tmp_path / "no-such-model")})
    run = wait_for(lambda: finished(run), 120, celery_worker, "the failing run")
    assert run.status == "failed"
    assert "BaseModelError" in run.error and "does not exist" in run.error
    assert not ModelVersion.objects.exists()
