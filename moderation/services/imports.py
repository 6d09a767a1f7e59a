from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction

from moderation.importing import ParsedRow, RowError
from moderation.models import Comment, Label, LabelAnnotation

MAX_REPORTED_ERRORS = 1000


@dataclass
class ImportSummary:
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    annotations: Counter = field(default_factory=Counter)

    @property
    def skipped(self) -> int:
        return self.already_present + self.error_count

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        # Keep the report bounded on a file that is garbage from end to end.
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


def batched(iterable, size: int):
    """itertools.batched, which arrives with Python 3.12."""
    iterator = iter(iterable)
    while batch := tuple(islice(iterator, size)):
        yield batch


def comments_import(*, rows: Iterable[ParsedRow | RowError], source: str, batch_size: int = 500) -> ImportSummary:
    """Import parsed rows as comments with imported annotations, one transaction per batch.

    A row whose (source, id) is already stored is left exactly as it is, so a re-run changes
    nothing; a row repeated inside the file is imported once and its repeats reported.
    """
    labels = {label.name: label for label in Label.objects.all()}
    summary = ImportSummary()
    for batch in batched(rows, batch_size):
        summary.rows_read += len(batch)
        _import_batch(batch, source=source, labels=labels, summary=summary)
    return summary


@transaction.atomic
def _import_batch(batch, *, source: str, labels: dict[str, Label], summary: ImportSummary) -> None:
    parsed: dict[str, ParsedRow] = {}
    for row in batch:
        if isinstance(row, RowError):
            summary.add_error(row)
        elif row.external_id in parsed:
            first = parsed[row.external_id].line
            summary.add_error(
                RowError(line=row.line, reason=f"duplicate id {row.external_id!r} (first on line {first})")
            )
        else:
            parsed[row.external_id] = row
    stored = set(
        Comment.objects.filter(client=None, source=source, external_id__in=parsed).values_list("external_id", flat=True)
    )
    summary.already_present += len(stored)
    new_rows = [row for external_id, row in parsed.items() if external_id not in stored]
    comments = Comment.objects.bulk_create(
        [Comment(text=row.text, source=source, external_id=row.external_id, language=row.language) for row in new_rows]
    )
    annotations = [
        LabelAnnotation(comment=comment, label=labels[name], value=value, origin=LabelAnnotation.Origin.IMPORTED)
        for comment, row in zip(comments, new_rows, strict=True)
        for name, value in row.labels.items()
    ]
    LabelAnnotation.objects.bulk_create(annotations)
    summary.imported += len(comments)
    summary.annotations.update(a.label.name for a in annotations if a.value)
