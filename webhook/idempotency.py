"""A request's idempotency key: one rule for the ``Idempotency-Key`` header and the config's path.

The header wins when it is present and not blank; otherwise the config's mapping may name a
payload path (``"idempotency_key": "event_id"``). Either way the key is the value's text, trimmed
(a number in its usual form, ``1001``); a blank value, an object or a list gives no key. A key the
event's column cannot hold as it is (longer than 255 characters, or with a NUL) is kept as its
SHA-256 digest, whichever source it came from: the same key always maps to the same stored value.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from worker.ingest.conversions import to_string
from worker.ingest.expressions import Expression, compile_expression

# The size of the event's idempotency_key column.
MAX_IDEMPOTENCY_KEY_LENGTH = 255
DIGEST_PREFIX = "sha256:"


def idempotency_key(header: str | None, key_path: object, payload: dict[str, Any]) -> str | None:
    """The request's idempotency key as stored; None when neither source gives one."""
    if header is not None and header.strip():
        return _storable_key(header)
    found = _text_at_path(key_path, payload)
    return _storable_key(found) if found is not None else None


@lru_cache(maxsize=256)
def _compiled(key_path: str) -> Expression:
    return compile_expression(key_path)


def _text_at_path(key_path: object, payload: dict[str, Any]) -> str | None:
    if not isinstance(key_path, str):
        return None
    try:
        return to_string(_compiled(key_path).search(payload))
    except ValueError:  # a path that does not compile or evaluate here, an object, a list
        return None


def _storable_key(text: str) -> str | None:
    key = text.strip()
    if not key:
        return None
    if len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH and "\x00" not in key and _is_utf8(key):
        return key
    # A provider's own event ids can be long; the digest keeps the key's identity in the column.
    return DIGEST_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a JSON escape such as "\ud800"
        return False
    return True
