"""What PostgreSQL's jsonb (and text) can store: no U+0000, no lone surrogates, no infinities."""

from __future__ import annotations

import math


def _storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON) has no UTF-8 form
        return False
    return True


def fits_jsonb(value: object) -> bool:
    """True when every string (and key) and number in ``value`` can be stored in a jsonb column.

    JSON has no infinity, yet Python reads ``1e400`` as one; it would be written as
    ``Infinity``, which PostgreSQL refuses.
    """
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if not _storable_text(current):
                return False
        elif isinstance(current, float):
            if not math.isfinite(current):
                return False
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return True
