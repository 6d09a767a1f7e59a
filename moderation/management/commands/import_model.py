from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from moderation.messages import validation_messages
from moderation.services.model_versions import model_version_import


class Command(BaseCommand):
    help = "Store a model version from an `export_model` archive, as a candidate (compare and promote it as any other)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive `export_model` wrote")
        parser.add_argument("--name", help="the version's name here (default: the name it was exported with)")

    def handle(self, *args, file, name, **options):
        try:
            version = model_version_import(archive=Path(file), name=name)
        except ValidationError as exc:
            raise CommandError(validation_messages(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"model version {version.name} imported as a candidate"))
