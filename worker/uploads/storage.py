"""Where uploaded files live, and receiving one: streamed to disk and hashed, never held whole."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Read and written this much at a time.
CHUNK_BYTES = 64 * 1024


class Readable(Protocol):
    """A stream of bytes: a request body, an open file."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; empty at the end."""
        ...


class FileTooLarge(ValueError):
    """The file is larger than the limit; nothing of it is kept."""


@dataclass(frozen=True)
class ReceivedFile:
    """A file stored in full: its size and the SHA-256 of its bytes."""

    size_bytes: int
    sha256: str


def upload_path(upload_dir: Path, upload_id: uuid.UUID) -> Path:
    """Where the upload's file is kept."""
    return upload_dir / f"{upload_id}.csv"


def errors_path(upload_dir: Path, upload_id: uuid.UUID) -> Path:
    """Where the upload's error file (the rows that failed) is kept."""
    return upload_dir / f"{upload_id}.errors.csv"


def receive_file(stream: Readable, target: Path, max_bytes: int) -> ReceivedFile:
    """Copy ``stream`` to ``target`` in chunks, hashing as it goes; FileTooLarge past the limit.

    The bytes go to a side file renamed into place once complete, so a reader never sees half a
    file and an oversized one leaves nothing behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(
                        f"the file is larger than the limit of {max_bytes} bytes; split it into "
                        "smaller files"
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return ReceivedFile(size, digest.hexdigest())
