from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from moderation.models import ModelVersion
from moderation.storage import artifact_materialise
from training.artifacts import ArtifactError, pack_artifact


class Command(BaseCommand):
    help = (
        "Write a model version's artifact, from the store, to one file that `import_model` reads on another deployment."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the version's name")
        parser.add_argument("file", help="the archive to write (a tar file)")

    def handle(self, *args, name, file, **options):
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            raise CommandError(f"no model version named {name!r}")
        try:
            pack_artifact(artifact_materialise(version), Path(file))
        except (ArtifactError, OSError) as exc:
            raise CommandError(f"cannot export {name}: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"model version {name} written to {file}"))
