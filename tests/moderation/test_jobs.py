"""moderation.jobs sends tasks by name: each name must be a task the worker knows, and the
training tasks must reach the training queue."""

import pytest
from django.conf import settings
from django.db import transaction

from moderation import jobs, tasks  # noqa: F401 - registers the tasks
from toxiscope.celery import app

NAMES = [value for name, value in vars(jobs).items() if name.isupper() and isinstance(value, str)]


@pytest.mark.parametrize("name", NAMES)
def test_every_job_name_is_a_registered_task(name):
    assert name in app.tasks


def test_the_beat_schedule_names_registered_tasks():
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(NAMES)


@pytest.mark.parametrize("name", jobs.TRAINING_QUEUE_TASKS)
def test_training_work_goes_to_the_training_queue(name):
    assert app.amqp.router.route({}, name)["queue"].name == "training"


@pytest.mark.django_db
def test_a_rolled_back_write_sends_nothing(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(jobs, "_send", lambda name, args, task_id=None: sent.append((name, args)))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        jobs.comments_triage_waiting()
        raise RuntimeError
    assert sent == [] and callbacks == []
    with django_capture_on_commit_callbacks(execute=True):
        jobs.comments_triage_waiting()
        assert sent == []  # not before the commit
    assert sent == [(jobs.COMMENTS_TRIAGE_WAITING, [])]
