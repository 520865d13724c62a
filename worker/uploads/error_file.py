"""The error file: the rows that failed, as they were, with the field and the reason added.

It has the upload's columns (and delimiter) plus ``error_field`` and ``error_message``, so a
person can fix the rows and upload the file again (the importer skips those two columns). It
grows by one append per chunk; a chunk redone after a crash first cuts the file back to the
length committed with the previous chunk, so no row is listed twice.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from worker.uploads.csv_rows import ERROR_COLUMNS
from worker.uploads.storage import CHUNK_BYTES


@dataclass(frozen=True)
class FailedRow:
    """A row that was not applied: its number, its fields as read, the field at fault, and why."""

    number: int
    values: list[str]
    field: str
    message: str


def _line(cells: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def _cells(header: list[str], row: FailedRow) -> list[str]:
    kept = [
        value for name, value in zip(header, row.values, strict=False) if name not in ERROR_COLUMNS
    ]
    width = sum(1 for name in header if name not in ERROR_COLUMNS)
    kept += [""] * (width - len(kept))
    # Fields past the header's width (a ragged row) follow the error columns: nothing is lost,
    # and the error columns stay under their own names.
    return [*kept, row.field, row.message, *row.values[len(header) :]]


def append_failed_rows(
    path: Path, committed_bytes: int, header: list[str], delimiter: str, rows: list[FailedRow]
) -> int:
    """Append ``rows`` after the committed length (header first); the file's new length."""
    if not rows:
        return committed_bytes
    text = ""
    if committed_bytes == 0:
        columns = [name for name in header if name not in ERROR_COLUMNS] + list(ERROR_COLUMNS)
        text = _line(columns, delimiter)
    text += "".join(_line(_cells(header, row), delimiter) for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as out:
        out.truncate(committed_bytes)
        out.seek(committed_bytes)
        out.write(text.encode("utf-8"))
        out.flush()
        # On disk before the chunk's progress commits, so the committed length never overstates.
        os.fsync(out.fileno())
        return out.tell()


def committed_part(path: Path, length: int) -> Iterator[bytes]:
    """The error file's first ``length`` bytes (the committed part), a chunk at a time."""
    # Only the committed part: a chunk being written may have appended rows it will redo.
    with path.open("rb") as handle:
        remaining = length
        while remaining > 0 and (chunk := handle.read(min(CHUNK_BYTES, remaining))):
            remaining -= len(chunk)
            yield chunk


def download_name(filename: str) -> str:
    """The error file's name for a download: the upload's stem plus -errors.csv, header-safe."""
    stem = Path(filename).stem or "upload"
    # A header value: no quotes, no control characters, ASCII only.
    safe = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in stem)
    return f"{safe}-errors.csv"
