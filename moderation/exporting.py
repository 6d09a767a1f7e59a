"""Writers for the labelled data: the Jigsaw CSV layout (plus every other label, racism
included) and JSONL, both readable again by `import_comments`. The CSV is safe to open in a
spreadsheet (no cell runs as a formula); the JSONL is exact.

An unknown label is an empty CSV cell, or absent from a JSONL record's `labels`: never 0.
"""

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO

from moderation.importing import ESCAPED_COLUMN, FORMULA_STARTS
from moderation.models import Label
from moderation.selectors.training_data import DATA_ORIGINS, LabelledComment, labelled_comments


def _external_id(row: LabelledComment) -> str:
    return row.external_id or f"toxiscope-{row.id}"


def _neutralised(cells: dict[str, str]) -> tuple[list[str], str]:
    """The cells, each that a spreadsheet would run as a formula prefixed with an apostrophe,
    and the names of those cells (for ESCAPED_COLUMN)."""
    escaped = [name for name, value in cells.items() if value.startswith(FORMULA_STARTS)]
    return [f"'{value}" if name in escaped else value for name, value in cells.items()], ",".join(escaped)


def write_csv(rows: Iterable[LabelledComment], labels: Sequence[str], out: IO[str]) -> int:
    """Cells that start like a formula (=, +, -, @, tab, carriage return) get an apostrophe, so
    a spreadsheet shows them as text; the row's ESCAPED_COLUMN names them, so `import_comments`
    removes exactly those apostrophes and a re-import gives back the same text."""
    writer = csv.writer(out)
    writer.writerow(["id", "comment_text", *labels, ESCAPED_COLUMN])
    count = 0
    for row in rows:
        values = ["" if row.labels.get(label) is None else int(row.labels[label]) for label in labels]
        cells, escaped = _neutralised({"id": _external_id(row), "comment_text": row.text})
        writer.writerow([*cells, *values, escaped])
        count += 1
    return count


def write_jsonl(rows: Iterable[LabelledComment], out: IO[str]) -> int:
    count = 0
    for row in rows:
        record = {"id": _external_id(row), "source": row.source, "text": row.text, "labels": row.labels}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def labelled_export(out: IO[str], fmt: str, *, origins: Sequence[str] = DATA_ORIGINS) -> int:
    """Every labelled comment (a moderator's value over an imported one) with every label, as
    `fmt` ("csv" or "jsonl"): the one export, for the command and the admins' download alike.
    Returns how many comments were written."""
    labels = list(Label.objects.values_list("name", flat=True))
    rows = labelled_comments(labels=labels, origins=list(origins))
    return write_csv(rows, labels, out) if fmt == "csv" else write_jsonl(rows, out)
