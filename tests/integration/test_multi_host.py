"""Three hosts over one PostgreSQL and one Redis, sharing no file system: a training worker and two
web hosts (gunicorn), each process group with an artifact cache of its own. The database is the
only way a model gets from one to another."""

import re
import time
from datetime import timedelta

import psycopg
import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from moderation.models import ArtifactBlob, ArtifactFile, ModelVersion, TrainingRun
from moderation.services import api_key_create
from moderation.services.artifacts import artifact_blobs_prune
from moderation.services.training import training_run_start, training_runs_reap_stale
from moderation.storage import artifact_materialise
from tests.factories import PASSWORD, AdminFactory, ApiClientFactory, install_version
from tests.integration.conftest import wait_for
from tests.servers import gunicorn, server_env
from tests.tiny import DEMO_CSV, tiny_config
from training.artifacts import file_sha256

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TINY = {k: v for k, v in tiny_config().to_dict().items() if k not in ("labels", "base_model")}
CHECK_S = 1  # TOXISCOPE_MODEL_CHECK_INTERVAL_S on the web hosts
SERVED_DEADLINE_S = 60  # a generous bound for a busy machine: bench/multi_host.py measures the time


@pytest.fixture
def web_hosts(celery_worker, tmp_path):
    def env(name):
        return server_env(connection, tmp_path / name, TOXISCOPE_MODEL_CHECK_INTERVAL_S=str(CHECK_S))

    with gunicorn(env("host-a")) as host_a, gunicorn(env("host-b")) as host_b:
        yield host_a, host_b


def _served_by(base: str, key: str) -> str | None:
    answer = requests.post(
        f"{base}/api/v1/analyze/", json={"text": "you idiot"}, headers={"Authorization": f"Api-Key {key}"}, timeout=30
    )
    assert answer.headers["Content-Type"].startswith("application/json"), answer.text
    return answer.json().get("model_version") if answer.status_code == 200 else None


def _admin_session(base: str) -> requests.Session:
    session = requests.Session()
    login = session.get(f"{base}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    admin = AdminFactory()
    session.post(
        f"{base}/login/",
        {"username": admin.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    return session


def _promote_through(session: requests.Session, base: str, version: ModelVersion) -> None:
    token = session.cookies["csrftoken"]
    answer = session.post(
        f"{base}/models/{version.pk}/promote/",
        {"override": "on", "reason": "the multi-host test", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/models/{version.pk}/"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text[-2000:]
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE, answer.text[-2000:]


def _wait_served(base: str, key: str, name: str, worker) -> None:
    wait_for(lambda: _served_by(base, key) == name, SERVED_DEADLINE_S, worker, f"{base} to serve {name}")


def test_trained_on_the_worker_promoted_on_host_a_served_by_host_b_and_rolled_back(
    celery_worker, web_hosts, trained_artifact, tmp_path, settings
):
    host_a, host_b = web_hosts
    settings.TOXISCOPE_ARTIFACTS_DIR = tmp_path / "installer"  # this process: a fourth host
    first = install_version(trained_artifact, settings.TOXISCOPE_ARTIFACTS_DIR, "first")
    _, key = api_key_create(user=ApiClientFactory(), name="multi-host")
    assert _served_by(host_b, key) == "first"  # fetched from the database: B never had a copy

    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    run = training_run_start(config=TINY)

    def finished():
        run.refresh_from_db()
        return run.status in ("succeeded", "failed") and run

    assert wait_for(finished, 240, celery_worker, "the training run").status == "succeeded", run.error
    trained = run.model_version
    admin = _admin_session(host_a)
    _promote_through(admin, host_a, trained)
    _wait_served(host_b, key, trained.name, celery_worker)  # no restart: B checks every CHECK_S
    _promote_through(admin, host_a, first)  # a rollback, the same way
    _wait_served(host_b, key, "first", celery_worker)

    stored = dict(trained.artifact_files.values_list("name", "sha256"))
    for host in ("host-a", "host-b"):
        copy = tmp_path / host / trained.name
        assert {name: file_sha256(copy / name) for name in stored} == stored  # each its own copy
    assert not (tmp_path / "installer" / trained.name).exists()  # nothing reached this host by disk


def test_a_worker_killed_after_storing_its_files_leaves_no_version_and_a_failed_run(
    celery_worker, trained_artifact, tmp_path, settings
):
    """The worker dies between storing the last blob and recording its version (the test holds
    the version table's write lock there): every blob is whole, none is named by a version, the
    reaper fails the run, and pruning removes the bytes."""
    settings.TOXISCOPE_ARTIFACTS_DIR = tmp_path / "installer"
    serving = install_version(trained_artifact, settings.TOXISCOPE_ARTIFACTS_DIR, "serving")
    blobs_before = set(ArtifactBlob.objects.values_list("sha256", flat=True))
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
    ) as holder:
        holder.execute("LOCK TABLE moderation_modelversion IN SHARE ROW EXCLUSIVE MODE")  # inserts wait
        run = training_run_start(config=TINY)

        def waiting_to_record():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'moderation_modelversion'::regclass"
                )
                return cursor.fetchone()[0] > 0

        wait_for(waiting_to_record, 240, celery_worker, "the run to store its files")
        orphans = set(ArtifactBlob.objects.values_list("sha256", flat=True)) - blobs_before
        assert orphans  # the run's files, stored whole...
        celery_worker.kill_all()
        celery_worker.wait(timeout=10)
        holder.rollback()
    assert not ModelVersion.objects.exclude(pk=serving.pk).exists()  # ...and named by no version
    assert set(ArtifactFile.objects.values_list("sha256", flat=True)).isdisjoint(orphans)

    settings.TOXISCOPE_TRAINING_HEARTBEAT_TIMEOUT_S = 1
    time.sleep(1.5)
    assert training_runs_reap_stale() == 1
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and run.model_version is None

    ArtifactBlob.objects.filter(sha256__in=orphans).update(touched_at=timezone.now() - timedelta(days=2))
    assert artifact_blobs_prune() == len(orphans)
    assert artifact_materialise(serving)  # what a version names is kept
