"""Streaming readers for labelled comment files: the Jigsaw CSV layout and JSONL.

Both yield one `ParsedRow` or `RowError` per record, with the line the record starts on, and
never hold more than one record in memory. A label column that is absent (or empty in a row)
leaves that label unknown; it is never read as false.
"""

import csv
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from moderation.text import is_blank

TEXT_COLUMNS = ("comment_text", "text")
ID_COLUMNS = ("id", "external_id")
# Our CSV export's column naming, per row, the cells it prefixed with an apostrophe because they
# start like a spreadsheet formula (moderation/exporting.py): the reader takes the apostrophe off.
ESCAPED_COLUMN = "toxiscope_escaped"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TRUE_VALUES = {"1", "true", "yes"}
FALSE_VALUES = {"0", "false", "no"}


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (wrong header, unknown format)."""


@dataclass(frozen=True)
class ParsedRow:
    line: int
    external_id: str
    text: str
    labels: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


def content_id(text: str) -> str:
    """A stable id for rows that bring none, so that re-importing them is idempotent."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:40]


def parse_label_value(raw) -> bool | None:
    """1/0, true/false, yes/no (any case) or empty/null for unknown."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    if text == "":
        return None
    raise ValueError(f"label value {raw!r} is not one of 1/0/true/false")


def validate_text(text, *, max_chars: int) -> str:
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if "\x00" in text:
        raise ValueError("text contains a NUL character")
    if is_blank(text):
        raise ValueError("text is empty")
    if len(text) > max_chars:
        raise ValueError(f"text has {len(text)} characters, more than the limit of {max_chars}")
    return text


def _row(line: int, external_id, text, raw_labels: dict, *, known_labels: Sequence[str], max_chars: int):
    try:
        text = validate_text(text, max_chars=max_chars)
        unknown = sorted(set(raw_labels) - set(known_labels))
        if unknown:
            raise ValueError(f"unknown label(s): {', '.join(unknown)}")
        labels = {}
        for name, raw in raw_labels.items():
            try:
                value = parse_label_value(raw)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if value is not None:
                labels[name] = value
        if external_id is not None and not isinstance(external_id, str | int):
            raise ValueError("id must be a string or an integer")
        external_id = str(external_id).strip() if external_id not in (None, "") else content_id(text)
        if len(external_id) > 200:
            raise ValueError("id is longer than 200 characters")
    except ValueError as exc:
        return RowError(line=line, reason=str(exc))
    return ParsedRow(line=line, external_id=external_id, text=text, labels=labels)


def read_csv(stream: IO[str], *, known_labels: Sequence[str], max_chars: int) -> Iterator[ParsedRow | RowError]:
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    text_column = next((c for c in TEXT_COLUMNS if c in header), None)
    if text_column is None:
        raise ImportFormatError(f"the CSV header has no text column (one of {', '.join(TEXT_COLUMNS)}): {header}")
    id_column = next((c for c in ID_COLUMNS if c in header), None)
    label_columns = [c for c in header if c in known_labels]
    next_line = 2  # the header is line 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # A malformed record (a stray carriage return, say): report it, read on.
            line, next_line = next_line, reader.line_num + 1
            yield RowError(line=line, reason=f"malformed CSV: {exc}")
            continue
        line, next_line = next_line, reader.line_num + 1
        if None in record:
            yield RowError(line=line, reason=f"{len(record[None])} more field(s) than the header has")
            continue
        if any(record[c] is None for c in header):
            yield RowError(line=line, reason="fewer fields than the header has")
            continue
        for column in filter(None, (record.get(ESCAPED_COLUMN) or "").split(",")):
            if column in (id_column, text_column) and record[column].startswith("'"):
                record[column] = record[column][1:]
        yield _row(
            line,
            record[id_column] if id_column else None,
            record[text_column],
            {c: record[c] for c in label_columns},
            known_labels=known_labels,
            max_chars=max_chars,
        )


def read_jsonl(stream: IO[str], *, known_labels: Sequence[str], max_chars: int) -> Iterator[ParsedRow | RowError]:
    for line_no, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RowError(line=line_no, reason=f"invalid JSON: {exc.msg}")
            continue
        if not isinstance(record, dict):
            yield RowError(line=line_no, reason="a line must be a JSON object")
            continue
        labels = record.get("labels", {})
        if not isinstance(labels, dict):
            yield RowError(line=line_no, reason="labels must be an object of label: 0/1")
            continue
        yield _row(
            line_no,
            record.get("id", record.get("external_id")),
            record.get("text", record.get("comment_text")),
            labels,
            known_labels=known_labels,
            max_chars=max_chars,
        )


READERS = {"csv": read_csv, "jsonl": read_jsonl}


def detect_format(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise ImportFormatError(f"cannot tell the format of {path!r} from its name: use --format csv or jsonl")
