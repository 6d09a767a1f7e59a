"""What `manage.py train` and `manage.py recalibrate` share: start a run, then hand it to a
worker or execute it in this process."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from moderation.messages import validation_messages
from moderation.models import TrainingRun


def run_here_or_queue(
    start: Callable[[], TrainingRun], execute: Callable[..., TrainingRun | None], *, enqueue: bool, what: str, out
) -> TrainingRun | None:
    """The run `start` makes, executed here (succeeded, or a CommandError that says why), or
    None once queued for a `training` worker."""
    try:
        run = start()
    except ValidationError as exc:
        raise CommandError(validation_messages(exc)) from None
    if enqueue:
        out.write(f"{what} #{run.pk} queued on the `training` queue")
        return None
    out.write(f"{what} #{run.pk}: running in this process...")
    run = execute(run_id=run.pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise CommandError(f"{what} #{run.pk} {run.status}: {run.error.splitlines()[0] if run.error else ''}")
    return run
