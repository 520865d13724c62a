"""The bound on a lead's metadata, so no provider can grow one row without limit."""

from __future__ import annotations

import json
from typing import Any

from worker.ingest.types import FieldError

# A lead's metadata after the merge may not exceed this many bytes of JSON: four times the default
# body limit, so any one accepted payload fits, yet no provider can grow one row without bound by
# sending new keys update after update.
MAX_METADATA_BYTES = 1024 * 1024


def metadata_size(metadata: dict[str, Any]) -> int:
    """The size of ``metadata`` as stored: bytes of UTF-8 JSON."""
    return len(json.dumps(metadata, ensure_ascii=False, default=str).encode("utf-8"))


def metadata_size_error(metadata: dict[str, Any]) -> FieldError | None:
    """An error when a lead's merged ``metadata`` would pass MAX_METADATA_BYTES."""
    size = metadata_size(metadata)
    if size <= MAX_METADATA_BYTES:
        return None
    return FieldError(
        "metadata",
        f"the lead's metadata would be {size} bytes after this payload's keys are merged; "
        f"the limit is {MAX_METADATA_BYTES} bytes",
    )
