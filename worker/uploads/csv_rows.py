"""Reading an uploaded CSV: its delimiter, its header, and its rows with their byte offsets.

The file is read line by line from disk (never whole): the CSV reader pulls one line at a time,
and a record ends at a line end, so the bytes of the lines pulled so far are the offset where
the next record starts. An import resumes from that offset after a crash.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# csv.Sniffer looks at this much of the file's start.
SNIFF_BYTES = 1024
DELIMITERS = ",;\t"
# Columns an error file adds; a fixed error file uploaded again has them, and they are no data.
ERROR_COLUMNS = ("error_field", "error_message")
# A header cell that is an email address or a phone-like number is a value, not a column name.
_VALUE_LIKE = re.compile(r"^\+?[\d\s().\-]{5,}$|@")


class FileRejected(ValueError):
    """The file cannot be imported at all; the message says why, for a person to act on."""


@dataclass(frozen=True)
class FileLayout:
    """What reading a file needs: its delimiter, its header, where the rows start, how many."""

    delimiter: str
    header: list[str]
    data_offset: int
    rows_total: int


@dataclass(frozen=True)
class Row:
    """One record under the header: its number (1 is the first), its fields, where it ends."""

    number: int
    values: list[str]
    end_offset: int


class _Lines:
    """A binary file's lines as text, counting the bytes handed out so far."""

    def __init__(self, handle: BinaryIO, offset: int, line_number: int) -> None:
        self.handle = handle
        self.offset = offset
        self.line_number = line_number

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.offset += len(raw)
            self.line_number += 1
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise FileRejected(
                    f"line {self.line_number} is not UTF-8 text (byte "
                    f"0x{raw[error.start]:02x} at character {error.start + 1}); save the file "
                    "as UTF-8 (CSV UTF-8 in Excel) and upload it again"
                ) from None


def sniff_delimiter(sample: bytes) -> str:
    """The delimiter of the file that starts with ``sample``: comma, semicolon or tab."""
    text = sample.decode("utf-8", errors="ignore")
    if "\n" in text:
        text = text[: text.rindex("\n")]  # only whole lines: a cut line misleads the sniffer
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # Too few rows to judge, or a quoted delimiter that makes rows look uneven: the
        # header row, which seldom quotes, tells by the delimiter it uses most (a comma when
        # it has none: one column).
        header = text.splitlines()[0] if text else ""
        counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
        best = max(counts, key=lambda delimiter: counts[delimiter])
        return best if counts[best] else ","


def _checked_header(cells: list[str]) -> list[str]:
    if not cells or all(not cell.strip() for cell in cells):
        raise FileRejected(
            "the file has no header row (its first line is empty); put the column names on "
            "the first line and upload it again"
        )
    header = [cell.strip() for cell in cells]
    for position, name in enumerate(header, start=1):
        if not name:
            raise FileRejected(f"column {position} of the header row has no name; name it")
        if _VALUE_LIKE.search(name):
            raise FileRejected(
                f"the file has no header row: its first line holds values ({name!r} in column "
                f"{position}), not column names; add a line of column names at the top"
            )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise FileRejected(f"the header row names column {name!r} twice; rename one")
        seen.add(name)
    return header


def inspect_file(path: Path) -> FileLayout:
    """Check the whole file (UTF-8, a header row) and count its rows; FileRejected if unfit."""
    with path.open("rb") as handle:
        start = handle.read(len(codecs.BOM_UTF8))
        data_start = len(start) if start == codecs.BOM_UTF8 else 0
        handle.seek(data_start)
        delimiter = sniff_delimiter(handle.read(SNIFF_BYTES))
        handle.seek(data_start)
        lines = _Lines(handle, data_start, 0)
        reader = csv.reader(lines, delimiter=delimiter, strict=False)
        try:
            first = next(reader, None)
            if first is None:
                raise FileRejected("the file is empty; it needs a header row and rows under it")
            header = _checked_header(first)
            data_offset = lines.offset
            rows_total = sum(1 for _ in reader)
        except csv.Error as error:
            raise FileRejected(f"line {lines.line_number} is not valid CSV: {error}") from None
    return FileLayout(delimiter, header, data_offset, rows_total)


def read_rows(path: Path, delimiter: str, offset: int, first_number: int, limit: int) -> list[Row]:
    """Up to ``limit`` rows starting at byte ``offset``, numbered from ``first_number``."""
    rows: list[Row] = []
    with path.open("rb") as handle:
        handle.seek(offset)
        lines = _Lines(handle, offset, 0)
        reader = csv.reader(lines, delimiter=delimiter, strict=False)
        for number, values in enumerate(reader, start=first_number):
            rows.append(Row(number, values, lines.offset))
            if len(rows) >= limit:
                break
    return rows


def row_object(header: list[str], values: list[str]) -> dict[str, str]:
    """The row as the flat object a config's mapping reads: column name to value.

    Empty cells are left out, so an upsert never clears a field because a cell was blank; a
    row shorter than the header simply lacks its last columns. The error file's own columns
    are no data and are skipped.
    """
    return {
        name: value
        for name, value in zip(header, values, strict=False)
        if value != "" and name not in ERROR_COLUMNS
    }


def row_problem(header: list[str], values: list[str]) -> str | None:
    """Why the row cannot become an event (an empty row, more fields than the header), or None."""
    if not values or all(not value.strip() for value in values):
        return "the row is empty"
    if len(values) > len(header):
        return (
            f"the row has {len(values)} fields but the header has {len(header)} columns; "
            "quote values that contain the delimiter"
        )
    return None
