from django.core.management.base import BaseCommand, CommandError

from moderation.exporting import labelled_export
from moderation.selectors.training_data import DATA_ORIGINS


class Command(BaseCommand):
    help = "Export the labelled comments (moderators' values over imported ones) as Jigsaw CSV or JSONL."

    def add_arguments(self, parser):
        parser.add_argument("path", help="file to write, or - for standard output")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file name")
        parser.add_argument("--origin", action="append", choices=DATA_ORIGINS, help="default: all")

    def handle(self, *args, path, format, origin, **options):
        fmt = format or ("jsonl" if path.endswith(".jsonl") else "csv" if path.endswith(".csv") else None)
        if fmt is None:
            raise CommandError("say --format csv or --format jsonl (or name the file .csv / .jsonl)")
        origins = origin or DATA_ORIGINS
        if path == "-":
            self.stdout.ending = ""  # the writers end their own lines
            count = labelled_export(self.stdout, fmt, origins=origins)
        else:
            try:
                with open(path, "w", newline="", encoding="utf-8") as out:
                    count = labelled_export(out, fmt, origins=origins)
            except OSError as exc:
                raise CommandError(f"cannot write {path}: {exc}") from None
        self.stderr.write(f"exported {count} labelled comments as {fmt}")
