from functools import partial

from django.core.management.base import BaseCommand, CommandError

from moderation.management.runs import run_here_or_queue
from moderation.models import ModelVersion
from moderation.services.training import recalibration_execute, recalibration_start


class Command(BaseCommand):
    help = (
        "Re-compute a model version's per-label thresholds from moderator decisions (by default those made "
        "since the version was created), without retraining; the result is a new candidate version."
    )

    def add_arguments(self, parser):
        # Not --version: Django's own option, which every command has.
        parser.add_argument("--model-version", help="model version name (default: the active one)")
        parser.add_argument("--since", help="use moderator decisions made on or after this ISO date")
        parser.add_argument("--enqueue", action="store_true", help="queue it for a Celery worker and return")

    def handle(self, *args, model_version: str | None, since, enqueue, **options):
        version = model_version
        versions = ModelVersion.objects.all()
        source = (
            versions.filter(name=version).first()
            if version
            else versions.filter(status=ModelVersion.Status.ACTIVE).first()
        )
        if source is None:
            raise CommandError(f"no model version named {version!r}" if version else "no active model version")
        start = partial(recalibration_start, model_version=source, since=since, enqueue=enqueue)
        run = run_here_or_queue(start, recalibration_execute, enqueue=enqueue, what="recalibration", out=self.stdout)
        if run is None:
            return
        new = run.model_version
        recal = new.metrics["recalibration"]
        self.stdout.write(f"{recal['size']} comments; thresholds of {source.name} -> {new.name}:")
        for label, threshold in new.thresholds.items():
            before = recal["before"]["calibrated"]["labels"][label]
            after = recal["after"]["calibrated"]["labels"][label]
            f1 = f"F1 {before['f1']:.3f} -> {after['f1']:.3f}" if after.get("evaluated") else "no positives"
            self.stdout.write(f"  {label:<14} {source.thresholds.get(label, 0.5):.3f} -> {threshold:.3f}  {f1}")
        self.stdout.write(self.style.SUCCESS(f"candidate model version {new.name}"))
