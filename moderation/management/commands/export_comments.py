from django.core.management.base import BaseCommand, CommandError

from moderation.exporting import write_csv, write_jsonl
from moderation.models import Label
from moderation.selectors import training_data
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
        labels = list(Label.objects.values_list("name", flat=True))
        rows = training_data.labelled_comments(labels=labels, origins=origin or list(DATA_ORIGINS))
        write = (lambda out: write_csv(rows, labels, out)) if fmt == "csv" else (lambda out: write_jsonl(rows, out))
        if path == "-":
            self.stdout.ending = ""  # the writers end their own lines
            count = write(self.stdout)
        else:
            try:
                with open(path, "w", newline="", encoding="utf-8") as out:
                    count = write(out)
            except OSError as exc:
                raise CommandError(f"cannot write {path}: {exc}") from None
        self.stderr.write(f"exported {count} labelled comments as {fmt}")
