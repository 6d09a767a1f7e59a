import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from moderation.models import ArtifactBlob, AuditEvent, LabelAnnotation, ModelVersion, TrainingRun
from moderation.selectors import training_data
from moderation.services.training import (
    recalibration_execute,
    recalibration_start,
    training_run_cancel,
    training_run_execute,
    training_run_start,
    training_runs_reap_stale,
)
from tests.factories import CommentFactory, LabelAnnotationFactory, UserFactory
from tests.tiny import tiny_config
from training.data import in_evaluation_set

pytestmark = pytest.mark.django_db
TINY = {k: v for k, v in tiny_config().to_dict().items() if k not in ("labels", "base_model")}


def test_start_validates_and_enqueues_on_commit(django_capture_on_commit_callbacks):
    admin = UserFactory()
    with pytest.raises(ValidationError) as error:
        training_run_start(config={"lr": -1, "nonsense": 1}, requested_by=admin)
    assert set(error.value.message_dict) == {"lr", "nonsense"}
    with pytest.raises(ValidationError) as error:
        training_run_start(data={"origins": ["model_auto"]})
    assert "origins" in error.value.message_dict

    with django_capture_on_commit_callbacks() as callbacks:
        run = training_run_start(config=TINY, requested_by=admin)
    assert len(callbacks) == 1  # the Celery enqueue waits for the commit
    assert run.status == TrainingRun.Status.QUEUED
    assert run.config["training"]["base_model"] == "scratch"
    assert run.config["training"]["labels"][-1] == "racism"
    assert AuditEvent.objects.filter(action="training_run.start", actor=admin).exists()


def test_one_training_run_at_a_time(settings):
    training_run_start(config=TINY, enqueue=False)
    with pytest.raises(ValidationError, match="already queued or running"):
        training_run_start(config=TINY, enqueue=False)
    settings.TOXISCOPE_MAX_CONCURRENT_TRAINING_RUNS = 2
    training_run_start(config=TINY, enqueue=False)


def _text(*, evaluation: bool, prefix: str) -> str:
    """A text on the chosen side of the evaluation-set hash."""
    return next(f"{prefix} {n}" for n in range(1000) if in_evaluation_set(f"{prefix} {n}") == evaluation)


def test_moderator_annotations_beat_imported_ones_and_unknown_stays_unknown():
    borderline, only_imported = _text(evaluation=False, prefix="borderline"), _text(evaluation=False, prefix="only")
    comment = CommentFactory(text=borderline)
    LabelAnnotationFactory(comment=comment, value=True, origin="imported")
    LabelAnnotationFactory(comment=comment, value=False, origin="moderator")
    other = CommentFactory(text=only_imported)
    LabelAnnotationFactory(comment=other, value=True, origin="imported")
    LabelAnnotationFactory(comment=CommentFactory(text="machine"), value=True, origin="model_auto")
    CommentFactory(text="never labelled")
    examples = training_data.training_examples(labels=["toxic", "racism"], origins=["imported", "moderator"])
    assert {e.text: dict(e.labels) for e in examples} == {borderline: {"toxic": False}, only_imported: {"toxic": True}}
    moderator_only = training_data.training_examples(labels=["toxic"], origins=["moderator"])
    assert [e.text for e in moderator_only] == [borderline]


def test_a_run_can_learn_from_some_communities_only():
    tweets, forum = _text(evaluation=False, prefix="tweet"), _text(evaluation=False, prefix="forum")
    LabelAnnotationFactory(comment=CommentFactory(text=tweets, source="olid"), value=True, origin="imported")
    LabelAnnotationFactory(comment=CommentFactory(text=forum, source="city-forum"), value=False, origin="imported")
    CommentFactory(text="unlabelled", source="unlabelled-place")
    assert training_data.labelled_sources() == ["city-forum", "olid"]
    only = training_data.training_examples(labels=["toxic"], origins=["imported"], sources=["olid"])
    assert [e.text for e in only] == [tweets]
    assert len(training_data.training_examples(labels=["toxic"], origins=["imported"])) == 2
    run = training_run_start(config=TINY, data={"origins": ["imported"], "sources": ["olid"]}, enqueue=False)
    assert run.config["data"]["sources"] == ["olid"]
    with pytest.raises(ValidationError):
        training_run_start(config=TINY, data={"origins": ["imported"], "sources": "olid"}, enqueue=False)


def test_the_evaluation_set_is_measured_and_never_learned():
    measured, learned = _text(evaluation=True, prefix="held"), _text(evaluation=False, prefix="held")
    for text in (measured, learned):
        LabelAnnotationFactory(comment=CommentFactory(text=text), value=True, origin="moderator")
    CommentFactory(text=_text(evaluation=True, prefix="traffic"))  # unlabelled, in the set
    traffic = _text(evaluation=False, prefix="traffic")
    CommentFactory(text=traffic)
    assert [e.text for e in training_data.training_examples(labels=["toxic"], origins=["moderator"])] == [learned]
    assert [e.text for e in training_data.evaluation_examples(labels=["toxic"])] == [measured]
    assert sorted(training_data.transfer_texts()) == sorted([learned, traffic])


@pytest.mark.slow
def test_execute_trains_a_candidate_version_with_progress(demo_data, artifacts_dir):
    run = training_run_start(config=TINY, enqueue=False)
    run = training_run_execute(run_id=run.pk)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = run.model_version
    assert version.status == ModelVersion.Status.CANDIDATE
    assert version.artifact_files.filter(name="manifest.json").exists()  # stored, for every host
    assert (artifacts_dir / version.name / "manifest.json").is_file()  # and in this host's cache
    assert set(version.thresholds) == set(version.labels) and len(version.labels) == 7
    assert version.metrics["model"]["calibrated"]["macro_f1"] is not None
    assert run.epoch >= 1 and run.step == run.total_steps > 0 and run.val_macro_f1 is not None
    assert run.started_at <= run.finished_at
    # A redelivered task finds the run finished and does nothing.
    assert training_run_execute(run_id=run.pk) is None
    assert ModelVersion.objects.count() == 1


def test_a_failure_marks_the_run_failed_with_its_error(artifacts_dir):
    CommentFactory()  # far too little data to train on
    run = training_run_start(config=TINY, enqueue=False)
    run = training_run_execute(run_id=run.pk)
    assert run.status == TrainingRun.Status.FAILED
    assert "DataError" in run.error and "at least 20" in run.error
    assert run.finished_at is not None and run.model_version is None


@pytest.mark.slow
def test_a_cancel_stops_a_running_run_at_its_next_report(demo_data, artifacts_dir, monkeypatch):
    from moderation.services import training as service

    run = training_run_start(config=TINY, enqueue=False)
    original = service._ProgressRecorder.__call__

    def cancel_once_training(self, progress):
        if progress.phase == "train" and progress.step >= 10:
            TrainingRun.objects.filter(pk=self.run.pk).update(cancel_requested=True)
        original(self, progress)

    monkeypatch.setattr(service._ProgressRecorder, "__call__", cancel_once_training)
    run = training_run_execute(run_id=run.pk)
    assert run.status == TrainingRun.Status.CANCELLED
    assert run.step < run.total_steps
    assert not ModelVersion.objects.exists() and not list(artifacts_dir.glob("*"))


def test_cancelling_a_queued_run_ends_it_at_once():
    run = training_run_start(config=TINY, enqueue=False)
    run = training_run_cancel(run=run)
    assert run.status == TrainingRun.Status.CANCELLED
    assert training_run_execute(run_id=run.pk) is None
    with pytest.raises(ValidationError):
        training_run_cancel(run=run)


def test_a_run_whose_worker_vanished_is_reaped(settings):
    settings.TOXISCOPE_TRAINING_HEARTBEAT_TIMEOUT_S = 60
    stale = TrainingRun.objects.create(status="running", heartbeat_at=timezone.now() - timedelta(minutes=5))
    alive = TrainingRun.objects.create(status="running", heartbeat_at=timezone.now())
    assert training_runs_reap_stale() == 1
    stale.refresh_from_db()
    alive.refresh_from_db()
    assert stale.status == "failed" and "worker lost" in stale.error
    assert alive.status == "running"


@pytest.mark.slow
def test_recalibration_makes_a_candidate_that_shares_the_weights(demo_data, artifacts_dir):
    """A recalibrated version has an artifact of its own (its thresholds.json matches the
    database), sharing the parent's weights, and keeps the parent run's training config."""
    trained = training_run_execute(run_id=training_run_start(config=TINY, enqueue=False).pk).model_version
    moderator = UserFactory()
    for annotation in LabelAnnotation.objects.filter(origin="imported").select_related("comment", "label"):
        LabelAnnotation.objects.create(
            comment=annotation.comment,
            label=annotation.label,
            value=annotation.value,
            origin="moderator",
            created_by=moderator,
        )
    blobs = ArtifactBlob.objects.count()
    run = recalibration_execute(run_id=recalibration_start(model_version=trained, enqueue=False).pk)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    new = run.model_version
    assert new.parent == trained
    new_path, parent_path = artifacts_dir / new.name, artifacts_dir / trained.name
    # The store keeps the shared weights once: only thresholds, metrics and the manifest are new.
    assert ArtifactBlob.objects.count() - blobs == 3
    assert (new_path / "model.safetensors").stat().st_ino == (parent_path / "model.safetensors").stat().st_ino
    assert json.loads((new_path / "thresholds.json").read_text()) == new.thresholds
    assert json.loads((parent_path / "thresholds.json").read_text()) == trained.thresholds
    assert run.config["training"] == TrainingRun.objects.get(model_version=trained).config["training"]
    assert new.status == ModelVersion.Status.CANDIDATE
    recalibration = new.metrics["recalibration"]
    assert recalibration["size"] == 281 - 21  # the demo comments outside the evaluation set
    assert set(recalibration["before"]) == {"calibrated", "at_0_5"}


def test_train_command_reports_errors_cleanly(capsys):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="lr: must be in"):
        call_command("train", "--config", '{"lr": 5}')
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("train", "--config", "{")
    with pytest.raises(CommandError, match="failed: DataError"):
        call_command("train", "--config", '{"max_epochs": 1}')


@pytest.mark.slow
def test_a_student_distils_from_a_version_and_records_its_teacher(demo_data, artifacts_dir, capsys):
    teacher = training_run_execute(run_id=training_run_start(config=TINY, enqueue=False).pk).model_version
    traffic = _text(evaluation=False, prefix="unlabelled live traffic")
    CommentFactory(text=traffic)
    # The command and the Celery task call the same service; the form test starts one too.
    call_command("train", "--teacher", teacher.name, "--config", json.dumps(TINY))
    student = ModelVersion.objects.exclude(pk=teacher.pk).get()
    assert student.metrics["teacher"]["name"] == teacher.name
    assert student.metrics["split"]["transfer"] == 1  # the unlabelled comment; labelled ones are rows already
    manifest = json.loads((artifacts_dir / student.name / "manifest.json").read_text())
    assert manifest["teacher"]["name"] == teacher.name
    with pytest.raises(CommandError, match="teacher: no model version named 'nobody'"):
        call_command("train", "--teacher", "nobody", "--config", json.dumps(TINY))


def test_a_first_start_installs_and_activates_the_starter_model(trained_artifact, artifacts_dir, capsys):
    call_command("install_starter_model", "--source", str(trained_artifact.artifact_path), "--name", "starter")
    version = ModelVersion.objects.get()
    assert (version.name, version.status) == ("starter", ModelVersion.Status.ACTIVE)
    assert (artifacts_dir / "starter" / "manifest.json").is_file() and version.artifact_files.count() >= 10
    assert version.thresholds == trained_artifact.thresholds and version.train_size == trained_artifact.train_size
    call_command("install_starter_model", "--source", str(trained_artifact.artifact_path))
    assert ModelVersion.objects.count() == 1 and "not installed" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_install_copies_outside_any_transaction_and_leaves_nothing_when_recording_fails(
    trained_artifact, artifacts_dir, monkeypatch
):
    from django.db import connection

    from moderation.services import model_versions

    copy, seen = model_versions.copy_artifact, []

    def recording_copy(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return copy(*args, **kwargs)

    def failing_audit(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(model_versions, "copy_artifact", recording_copy)
    monkeypatch.setattr(model_versions, "audit_event_record", failing_audit)
    with pytest.raises(RuntimeError, match="went away"):
        model_versions.model_version_install(source=trained_artifact.artifact_path, name="starter")
    assert seen == [False]
    assert not ModelVersion.objects.exists() and not list(Path(artifacts_dir).glob("*"))


def test_installing_a_broken_artifact_is_refused_whole(trained_artifact, artifacts_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(trained_artifact.artifact_path, broken)
    (broken / "thresholds.json").write_text("{}")
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("install_starter_model", "--source", str(broken))
    with pytest.raises(CommandError, match="no artifact directory"):
        call_command("install_starter_model", "--source", str(tmp_path / "absent"))
    assert not ModelVersion.objects.exists() and not list(Path(artifacts_dir).glob("*"))


@pytest.mark.slow
def test_a_version_trained_on_german_comments_serves_german(artifacts_dir, tmp_path, settings):
    """GermEval's tweets imported as German: the version trained on them serves German, and a
    language it has no labelled comments in still goes to people."""
    from rest_framework.test import APIClient

    from moderation.engine.scoring import active_model
    from moderation.services import api_key_create, model_version_promote
    from tests.conftest import shared_file
    from tests.factories import ApiClientFactory

    rows = shared_file("germeval2018_train.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    german = tmp_path / "germeval.tsv"
    german.write_text("".join(rows[:400]), encoding="utf-8")
    command = ["--no-header", "--text", "1", "--label", "toxic=2:OFFENSE/OTHER", "--language", "de"]
    call_command("import_comments", str(german), "--no-progress", *command)
    run = training_run_execute(run_id=training_run_start(config=TINY | {"labels": ["toxic"]}, enqueue=False).pk)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    version = model_version_promote(version=run.model_version)
    assert version.served_languages == {"de"} and version.metrics["languages"]["de"] >= 300
    active_model.invalidate()
    key = api_key_create(user=ApiClientFactory(), name="de")[1]
    body = {"comment": {"text": "Du bist ein Idiot und das weiß jeder hier"}, "requestedAttributes": {"TOXICITY": {}}}
    url = f"/v1alpha1/comments:analyze?key={key}"
    accepted = APIClient().post(url, body | {"languages": ["de"]}, format="json")
    assert (
        accepted.status_code == 200
        and 0 <= accepted.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"] <= 1
    )
    refused = APIClient().post(url, body | {"languages": ["es"]}, format="json")
    assert refused.status_code == 400 and "languages: es" in refused.json()["error"]["message"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    spanish = client.post(
        "/api/v1/comments/", {"text": "Eres un idiota y todos lo saben", "language": "es"}, format="json"
    )
    assert spanish.json()["route"]["action"] == "review" and "in es" in spanish.json()["route"]["reason"]
