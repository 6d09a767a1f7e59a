from django.core.management.base import BaseCommand, CommandError

from moderation.engine.scoring import active_model
from moderation.services import comments_triage_waiting


class Command(BaseCommand):
    help = (
        "Score and route submitted comments with the active model: those never routed and those routed while "
        "no model was active. --all also re-scores every pending comment the active version has not scored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="rescore_all")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, rescore_all, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        version = active_model.get()
        if version is None:
            raise CommandError("no model version is active: train one and promote it first")
        count = comments_triage_waiting(rescore_all=rescore_all, batch_size=batch_size)
        self.stdout.write(f"scored and routed {count} comment(s) with {version.name}")
