from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from moderation.messages import validation_messages
from moderation.models import ModelVersion
from moderation.services.model_versions import model_version_install, model_version_promote

STARTER = Path(__file__).resolve().parents[2] / "fixtures" / "starter" / "model"


class Command(BaseCommand):
    help = (
        "A first start: install the starter model shipped with ToxiScope (a fast student distilled on real "
        "Jigsaw comments, reproduced by `make starter-model`) and make it active, unless a model version exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", default=str(STARTER), help="the artifact directory (default: the starter)")
        parser.add_argument("--name", default="starter", help="the version's name")

    def handle(self, *args, source, name, **options):
        if ModelVersion.objects.exists():
            self.stdout.write("a model version exists: the starter model is not installed")
            return
        if not Path(source).is_dir():
            if source == str(STARTER):  # a checkout without it: `manage.py train` makes the first one
                self.stdout.write(self.style.WARNING(f"no starter model at {source} (make starter-model makes it)"))
                return
            raise CommandError(f"no artifact directory at {source}")
        try:
            version = model_version_promote(version=model_version_install(source=Path(source), name=name))
        except ValidationError as exc:
            raise CommandError(validation_messages(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"starter model {version.name} installed and active"))
