import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from moderation.management.messages import validation_messages
from moderation.models import ModelVersion, TrainingRun
from moderation.services import model_version_promote
from moderation.services.training import training_run_execute, training_run_start
from training.report import results_table


class Command(BaseCommand):
    help = (
        "Train a candidate model from the database's annotations. Runs here, in this process, by default "
        "(the same service the Celery task calls); --enqueue hands it to a `training` worker instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base", help="scratch, minilm, a hub id or a local directory (default: settings)")
        parser.add_argument("--epochs", type=int, help="maximum epochs (early stopping decides)")
        parser.add_argument("--calibration", choices=["holdout", "oof"])
        parser.add_argument("--seed", type=int)
        parser.add_argument("--config", help="more settings as JSON, e.g. '{\"lr\": 3e-4}'")
        parser.add_argument("--origins", default="imported,moderator", help="annotation origins to learn from")
        parser.add_argument("--since", help="only annotations made on or after this ISO date")
        parser.add_argument("--until", help="only annotations made on or before this ISO date")
        parser.add_argument("--enqueue", action="store_true", help="queue it for a Celery worker and return")
        parser.add_argument("--if-missing", action="store_true", help="do nothing if any model version exists")
        parser.add_argument(
            "--promote",
            action="store_true",
            help="make the new version active if no version is active yet (a first start)",
        )

    def handle(
        self,
        *args,
        base,
        epochs,
        calibration,
        seed,
        config,
        origins,
        since,
        until,
        enqueue,
        if_missing,
        promote,
        **options,
    ):
        if if_missing and ModelVersion.objects.exists():
            self.stdout.write("a model version exists: not training (--if-missing)")
            return
        try:
            overrides = json.loads(config) if config else {}
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from None
        if not isinstance(overrides, dict):
            raise CommandError("--config must be a JSON object")
        for key, value in {"base_model": base, "max_epochs": epochs, "calibration": calibration, "seed": seed}.items():
            if value is not None:
                overrides[key] = value
        data = {"origins": [o.strip() for o in origins.split(",") if o.strip()], "since": since, "until": until}
        try:
            run = training_run_start(config=overrides, data=data, enqueue=enqueue)
        except ValidationError as exc:
            raise CommandError(validation_messages(exc)) from None
        if enqueue:
            self.stdout.write(f"training run #{run.pk} queued on the `training` queue")
            return
        self.stdout.write(f"training run #{run.pk}: training in this process...")
        run = training_run_execute(run_id=run.pk)
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"training run #{run.pk} {run.status}: {run.error.splitlines()[0] if run.error else ''}")
        version = run.model_version
        self.stdout.write(results_table(version.metrics))
        self.stdout.write(self.style.SUCCESS(f"candidate model version {version.name} ({version.artifact_path})"))
        if promote and not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
            model_version_promote(version=version)
            self.stdout.write(self.style.SUCCESS(f"{version.name} is now the active model"))
