"""A worker killed with SIGKILL mid-training: the run ends failed, the active model keeps serving."""

import time

import pytest
from django.core.management import call_command

from moderation.engine.scoring import active_model
from moderation.models import ModelVersion, TrainingRun
from moderation.services import comments_submit_many
from moderation.services.training import training_run_start, training_runs_reap_stale
from tests.factories import ApiClientFactory, install_version
from tests.integration.conftest import wait_for
from tests.tiny import DEMO_CSV, tiny_config

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
# Many epochs: the run is still training when the worker is killed.
LONG = {
    k: v for k, v in tiny_config(max_epochs=200, patience=200).to_dict().items() if k not in ("labels", "base_model")
}


def test_sigkill_mid_training_fails_the_run_and_keeps_the_active_model(celery_worker, settings, trained_artifact):
    settings.TOXISCOPE_ARTIFACTS_DIR = celery_worker.artifacts_dir
    serving = install_version(trained_artifact, celery_worker.artifacts_dir, "serving")
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    run = training_run_start(config=LONG)

    def training_started():
        run.refresh_from_db()
        return run.status == "running" and run.step > 0

    wait_for(training_started, 120, celery_worker, "training to start")
    celery_worker.kill_all()
    celery_worker.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == "running"  # nobody is left to say otherwise...

    settings.TOXISCOPE_TRAINING_HEARTBEAT_TIMEOUT_S = 2
    time.sleep(2.5)
    assert training_runs_reap_stale() == 1  # ...until the reaper (Celery beat, every minute) runs
    run.refresh_from_db()
    assert run.status == "failed" and "worker lost" in run.error and run.model_version is None

    assert list(ModelVersion.objects.filter(status="active")) == [serving]
    active_model.invalidate()
    comment = comments_submit_many(client=ApiClientFactory(), items=[{"text": "still scored?"}])[0].comment
    assert comment.routed_by == serving
    assert TrainingRun.objects.filter(status="running").count() == 0
