import argparse
import json
from functools import partial

from django.core.management.base import BaseCommand, CommandError

from moderation.management.runs import run_here_or_queue
from moderation.models import ModelVersion
from moderation.services import model_version_promote
from moderation.services.training import training_run_execute, training_run_start
from moderation.storage import cache_path
from training.config import add_config_arguments, config_overrides
from training.report import results_table


class Command(BaseCommand):
    help = (
        "Train a candidate model from the database's annotations. Runs here, in this process, by default "
        "(the same service the Celery task calls); --enqueue hands it to a `training` worker instead."
    )

    def add_arguments(self, parser):
        # Labels come from the database's active labels.
        add_config_arguments(parser, exclude=("labels",))
        parser.add_argument("--config", help="more settings as JSON, e.g. '{\"lr\": 3e-4}'")
        parser.add_argument("--origins", default="imported,moderator", help="annotation origins to learn from")
        parser.add_argument("--since", help="only annotations made on or after this ISO date")
        parser.add_argument(
            "--sources", default="", help="only these communities' comments (comma-separated sources): their own model"
        )
        parser.add_argument("--until", help="only annotations made on or before this ISO date")
        parser.add_argument("--enqueue", action="store_true", help="queue it for a Celery worker and return")
        parser.add_argument("--if-missing", action="store_true", help="do nothing if any model version exists")
        parser.add_argument(
            "--promote",
            action="store_true",
            help="make the new version active if no version is active yet (a first start)",
        )

    def handle(self, *args, config, origins, since, until, sources, enqueue, if_missing, promote, **options):
        if if_missing and ModelVersion.objects.exists():
            self.stdout.write("a model version exists: not training (--if-missing)")
            return
        try:
            overrides = json.loads(config) if config else {}
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from None
        if not isinstance(overrides, dict):
            raise CommandError("--config must be a JSON object")
        overrides |= config_overrides(argparse.Namespace(**options))
        data = {
            "origins": [o.strip() for o in origins.split(",") if o.strip()],
            "since": since,
            "until": until,
            "sources": [s.strip() for s in sources.split(",") if s.strip()],
        }
        start = partial(training_run_start, config=overrides, data=data, enqueue=enqueue)
        run = run_here_or_queue(start, training_run_execute, enqueue=enqueue, what="training run", out=self.stdout)
        if run is None:
            return
        version = run.model_version
        self.stdout.write(results_table(version.metrics))
        self.stdout.write(
            self.style.SUCCESS(
                f"candidate model version {version.name} (stored; this host's copy: {cache_path(version)})"
            )
        )
        if promote and not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
            model_version_promote(version=version)
            self.stdout.write(self.style.SUCCESS(f"{version.name} is now the active model"))
