"""Identity keys: the normalized identifiers of an event, named for locking."""

from __future__ import annotations

import hashlib
from typing import Any

from models.enums import MATCH_KEYS


def identity_keys(organization_id: int, values: dict[str, Any]) -> list[str]:
    """Every normalized identifier of a payload as a lock name, sorted.

    Two events that share any identifier share a key, so taking all keys in sorted order
    serializes them without deadlocks.
    """
    keys = {
        f"lead:{organization_id}:{field}:{values[field]}"
        for field in MATCH_KEYS
        if values.get(field) is not None
    }
    return sorted(keys)


def advisory_lock_id(key: str) -> int:
    """A signed 64-bit id for ``pg_advisory_xact_lock`` derived from a lock name."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
