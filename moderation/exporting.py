"""Writers for the labelled data: the Jigsaw CSV layout (plus every other label, racism
included) and JSONL, both readable again by `import_comments`.

An unknown label is an empty CSV cell, or absent from a JSONL record's `labels`: never 0.
"""

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO

from moderation.selectors import LabelledComment


def _external_id(row: LabelledComment) -> str:
    return row.external_id or f"toxiscope-{row.id}"


def write_csv(rows: Iterable[LabelledComment], labels: Sequence[str], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(["id", "comment_text", *labels])
    count = 0
    for row in rows:
        values = ["" if row.labels.get(label) is None else int(row.labels[label]) for label in labels]
        writer.writerow([_external_id(row), row.text, *values])
        count += 1
    return count


def write_jsonl(rows: Iterable[LabelledComment], out: IO[str]) -> int:
    count = 0
    for row in rows:
        record = {"id": _external_id(row), "source": row.source, "text": row.text, "labels": row.labels}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
