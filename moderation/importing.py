"""Streaming readers for labelled comment files: the Jigsaw CSV layout and JSONL, and any CSV,
TSV or JSONL through a `ColumnMapping` (a community's own export, read as it is).

Each yields one `ParsedRow` or `RowError` per record, with the line the record starts on, and
never holds more than one record in memory. A label column that is absent (or empty in a row)
leaves that label unknown; it is never read as false.
"""

import csv
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from moderation.text import LANGUAGE_CODE, is_blank

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
    language: str = ""  # as the file gives it; "" when it says nothing


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


def _json_objects(stream: IO[str]) -> Iterator[tuple[int, dict] | RowError]:
    """(line, object) for each non-blank line of a JSONL stream, or the error that line is."""
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
        yield line_no, record


def read_jsonl(stream: IO[str], *, known_labels: Sequence[str], max_chars: int) -> Iterator[ParsedRow | RowError]:
    for item in _json_objects(stream):
        if isinstance(item, RowError):
            yield item
            continue
        line_no, record = item
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
FORMATS = ("csv", "tsv", "jsonl")
LANGUAGE = re.compile(LANGUAGE_CODE)


def detect_format(path: str) -> str:
    lowered = path.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".tsv", ".tab")):
        return "tsv"
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise ImportFormatError(f"cannot tell the format of {path!r} from its name: use --format csv, tsv or jsonl")


@dataclass(frozen=True)
class LabelRule:
    """How one of our labels is read from a column of the file: the cell's values that mean
    yes and no, and optionally unknown (`toxic=subtask_a:OFF/NOT`, `insult=subtask_b:TIN/UNT/NULL`),
    or a 0–1 score and its cut-off (`toxic=score>=0.5`). An empty cell is unknown; any other
    value is an error that names it."""

    label: str
    column: str
    yes: frozenset[str] = frozenset()
    no: frozenset[str] = frozenset()
    cutoff: float | None = None
    unknown: frozenset[str] = frozenset()

    SYNTAX = "LABEL=COLUMN:YES[|YES…]/NO[|NO…][/UNKNOWN[|…]] or LABEL=COLUMN>=CUTOFF"

    @classmethod
    def parse(cls, spec: str) -> "LabelRule":
        label, _, rule = spec.partition("=")
        label, rule = label.strip(), rule.strip()
        if ">=" in rule:
            column, _, cutoff = rule.rpartition(">=")
            try:
                value = float(cutoff)
            except ValueError:
                value = math.nan
            if not column.strip() or not 0 < value <= 1:
                raise ImportFormatError(f"label rule {spec!r}: the cut-off must be a number above 0, at most 1")
            return cls(label, column.strip(), cutoff=value)
        column, _, values = rule.rpartition(":")
        groups = [frozenset(v.strip() for v in group.split("|") if v.strip()) for group in values.split("/")]
        if not label or not column.strip() or len(groups) not in (2, 3) or not groups[0] or not groups[1]:
            raise ImportFormatError(f"label rule {spec!r} is not {cls.SYNTAX}")
        yes_values, no_values, unknown = groups[0], groups[1], groups[2] if len(groups) == 3 else frozenset()
        twice = (yes_values & no_values) | ((yes_values | no_values) & unknown)
        if twice:
            raise ImportFormatError(f"label rule {spec!r}: {', '.join(sorted(twice))} has two meanings")
        return cls(label, column.strip(), yes_values, no_values, unknown=unknown)

    def value(self, raw) -> bool | None:
        cell = "" if raw is None else str(raw).strip()
        if cell == "" or cell in self.unknown:
            return None
        if self.cutoff is not None:
            try:
                score = float(cell)
            except ValueError:
                score = math.nan
            if not 0 <= score <= 1:  # NaN too
                raise ValueError(f"column {self.column}: {cell!r} is not a score from 0 to 1")
            return score >= self.cutoff
        if cell in self.yes:
            return True
        if cell in self.no:
            return False
        expected = f"{'|'.join(sorted(self.yes))} (yes) nor {'|'.join(sorted(self.no))} (no)"
        raise ValueError(f"column {self.column}: {cell[:40]!r} is neither {expected}")


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of a file hold the text, the id, the language and each label. Columns are
    named by the header, or by number (1 for the first) in a file without one."""

    text: str
    labels: tuple[LabelRule, ...]
    id: str | None = None
    language_column: str | None = None
    language: str = ""  # the whole file's, where it has no column for it

    def check(self, columns: Sequence[str], known_labels: Sequence[str]) -> None:
        """Refuse a mapping that names a column the file lacks or a label this platform lacks."""
        named = [("text", self.text), ("id", self.id), ("language", self.language_column)]
        named += [(f"label {rule.label}", rule.column) for rule in self.labels]
        for role, column in named:
            if column is not None and column not in columns:
                raise ImportFormatError(f"the {role} column {column!r} is not in the file: {', '.join(columns)}")
        for rule in self.labels:
            if rule.label not in known_labels:
                raise ImportFormatError(
                    f"label rule for {rule.label!r}: no such label here ({', '.join(known_labels)})"
                )
        if len({rule.label for rule in self.labels}) < len(self.labels):
            raise ImportFormatError("each label may have one rule")
        if self.language and not LANGUAGE.fullmatch(self.language):
            raise ImportFormatError(f"language {self.language!r} is not a language code such as en or de")

    def row(self, line: int, cells: dict, *, max_chars: int) -> ParsedRow | RowError:
        try:
            labels = {rule.label: rule.value(cells.get(rule.column)) for rule in self.labels}
            language = str(cells.get(self.language_column) or "").strip() if self.language_column else self.language
            if language and not LANGUAGE.fullmatch(language):
                raise ValueError(f"column {self.language_column}: {language[:20]!r} is not a language code")
        except ValueError as exc:
            return RowError(line=line, reason=str(exc))
        parsed = _row(
            line,
            cells.get(self.id) if self.id else None,
            cells.get(self.text),
            {name: value for name, value in labels.items() if value is not None},
            known_labels=[rule.label for rule in self.labels],
            max_chars=max_chars,
        )
        return replace(parsed, language=language) if isinstance(parsed, ParsedRow) else parsed


def read_mapped(
    stream: IO[str],
    *,
    mapping: ColumnMapping,
    file_format: str,
    header: bool,
    known_labels: Sequence[str],
    max_chars: int,
) -> Iterator[ParsedRow | RowError]:
    """Any CSV, TSV (tabs, no quoting) or JSONL of flat objects, read through `mapping`. The
    mapping is checked against the header (or the first row's width) before any row is read."""
    if file_format == "jsonl":
        mapping.check(_jsonl_columns(mapping), known_labels)
        for item in _json_objects(stream):
            yield item if isinstance(item, RowError) else mapping.row(*item, max_chars=max_chars)
        return
    options = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if file_format == "tsv" else {}
    reader = csv.reader(stream, **options)
    first = next(reader, None)
    if first is None:
        return
    columns = first if header else [str(number) for number in range(1, len(first) + 1)]
    mapping.check(columns, known_labels)
    line = 1
    if not header:
        yield mapping.row(1, dict(zip(columns, first, strict=True)), max_chars=max_chars)
    for record in reader:
        line = reader.line_num
        if len(record) != len(columns):
            yield RowError(line=line, reason=f"{len(record)} fields where the file has {len(columns)}")
            continue
        yield mapping.row(line, dict(zip(columns, record, strict=True)), max_chars=max_chars)


def _jsonl_columns(mapping: ColumnMapping) -> list[str]:
    """JSONL has no header: every key the mapping names is a column (a line lacking one has
    an empty cell)."""
    names = [mapping.text, mapping.id, mapping.language_column, *(rule.column for rule in mapping.labels)]
    return [name for name in names if name is not None]


Reader = Callable[..., Iterator[ParsedRow | RowError]]


def file_reader(
    file_format: str,
    *,
    text: str | None = None,
    labels: Sequence[str] = (),
    id: str | None = None,
    language_column: str | None = None,
    language: str = "",
    header: bool = True,
) -> Reader:
    """The reader for a file: one of this project's own layouts (no `text` given), or the
    file's own layout through a mapping (`text`, `labels` as LabelRule specs, …). Raises
    ImportFormatError for a mapping that cannot be used, naming the command's options (the
    upload page's fields carry the same names)."""
    if not text:
        if labels or id or language_column or not header:
            raise ImportFormatError("a file in its own layout needs --text as well as its --label rules")
        if file_format not in READERS:
            raise ImportFormatError(
                f"a {file_format.upper()} file is read through a mapping: give its text column and label rules"
            )
        return READERS[file_format]
    if not labels:
        raise ImportFormatError("give at least one --label rule: the rows would teach nothing")
    mapping = ColumnMapping(
        text=text,
        labels=tuple(LabelRule.parse(spec) for spec in labels),
        id=id,
        language_column=language_column,
        language=language,
    )

    def read(stream: IO[str], **kwargs: Any) -> Iterator[ParsedRow | RowError]:
        return read_mapped(stream, mapping=mapping, file_format=file_format, header=header, **kwargs)

    return read


def check_whole(path: str | Path, rows: Callable[[IO[str]], Iterable[ParsedRow | RowError]]) -> None:
    """Every row read and checked before any is stored: a mapping that misreads one row
    probably misreads others, so none of them is half-imported. Raises ImportFormatError
    naming the first rows that cannot be read."""
    errors, count = [], 0
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            for row in rows(stream):
                count += 1
                if not isinstance(row, ParsedRow):
                    errors.append(f"line {row.line}: {row.reason}")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"not valid UTF-8 at byte {exc.start}; nothing was imported") from None
    if errors:
        shown = "\n".join(errors[:20]) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise ImportFormatError(f"{len(errors)} of {count} row(s) cannot be read; nothing was imported:\n{shown}")
