import io
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from moderation.importing import FORMATS, ImportFormatError, LabelRule, check_whole, detect_format, file_reader
from moderation.models import Label
from moderation.services import comments_import


class Command(BaseCommand):
    help = (
        "Import labelled comments from a CSV in the Jigsaw layout (id, comment_text, one column per label) "
        'or JSONL ({"text": ..., "labels": {"toxic": 1, ...}}); or from any CSV, TSV or JSONL in its own '
        "layout, given --text and --label rules (the file is checked whole first: one bad row or value and "
        "nothing is stored). A label column that is absent leaves that label unknown. Re-running the same "
        "file changes nothing. Exits 1 if any row was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", choices=FORMATS, help="default: from the file name")
        parser.add_argument("--source", help="the source/community the rows belong to (default: the file's stem)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--max-bytes", type=int, default=2 * 1024**3, help="refuse larger files")
        parser.add_argument("--no-progress", action="store_true")
        mapping = parser.add_argument_group("a file in its own layout (columns by header name, or 1, 2, … without one)")
        mapping.add_argument("--text", help="the column holding the comment's text")
        mapping.add_argument("--id", help="the column holding its id (default: a hash of the text)")
        mapping.add_argument(
            "--label",
            action="append",
            default=[],
            metavar="RULE",
            help=f"{LabelRule.SYNTAX}, e.g. toxic=subtask_a:OFF/NOT or toxic=score>=0.5; repeatable",
        )
        mapping.add_argument("--language-column", help="the column holding each comment's language code")
        mapping.add_argument("--language", default="", help="the whole file's language code (en, de, …)")
        mapping.add_argument("--no-header", action="store_true", help="the file's first line is a row")

    def handle(self, *args, path, format, source, batch_size, max_bytes, no_progress, **options):
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"{path}: no such file")
        size = file_path.stat().st_size
        if size > max_bytes:
            raise CommandError(f"{path}: {size} bytes is over the limit of {max_bytes} (--max-bytes)")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            file_format = format or detect_format(path)
            read = file_reader(
                file_format,
                text=options["text"],
                labels=options["label"],
                id=options["id"],
                language_column=options["language_column"],
                language=options["language"],
                header=not options["no_header"],
            )
        except ImportFormatError as exc:
            raise CommandError(str(exc)) from None
        source = source or file_path.stem
        known_labels = list(Label.objects.values_list("name", flat=True))

        def rows(stream):
            return read(stream, known_labels=known_labels, max_chars=settings.TOXISCOPE_MAX_TEXT_CHARS)

        if options["text"]:
            try:
                check_whole(file_path, rows)
            except ImportFormatError as exc:
                raise CommandError(f"{path}: {exc}") from None
        with (
            open(file_path, "rb") as raw,
            tqdm(total=size, unit="B", unit_scale=True, desc="import", disable=no_progress or not os.isatty(2)) as bar,
        ):
            # Progress by bytes read: exact without counting the rows first.
            stream = io.TextIOWrapper(
                io.BufferedReader(CallbackIOWrapper(raw, bar.update)), encoding="utf-8", newline=""
            )
            try:
                summary = comments_import(rows=rows(stream), source=source, batch_size=batch_size)
            except ImportFormatError as exc:
                raise CommandError(f"{path}: {exc}") from None
            except UnicodeDecodeError as exc:
                raise CommandError(
                    f"{path}: not valid UTF-8 at byte {exc.start} of a chunk; rows before it are imported, "
                    "convert the file to UTF-8 and re-run (re-runs skip what is stored)"
                ) from None
        self._report(source, summary)

    def _report(self, source: str, summary) -> None:
        self.stdout.write(f"source: {source}")
        self.stdout.write(f"rows read: {summary.rows_read}")
        self.stdout.write(f"imported: {summary.imported}")
        self.stdout.write(
            f"skipped: {summary.skipped} ({summary.already_present} already present, {summary.error_count} rejected)"
        )
        positives = ", ".join(f"{name} {count}" for name, count in sorted(summary.annotations.items()))
        self.stdout.write(f"positive labels imported: {positives or 'none'}")
        for error in summary.errors:
            self.stderr.write(f"line {error.line}: {error.reason}")
        if summary.error_count > len(summary.errors):
            self.stderr.write(f"... and {summary.error_count - len(summary.errors)} more rejected rows")
        if summary.error_count:
            raise CommandError(f"{summary.error_count} row(s) rejected; the others were imported", returncode=1)


class CallbackIOWrapper(io.RawIOBase):
    """A binary file that reports how many bytes each read returned."""

    def __init__(self, raw, callback):
        self._raw = raw
        self._callback = callback

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        self._callback(count or 0)
        return count
