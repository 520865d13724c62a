"""Checking that text repeats no personal datum or secret."""

from __future__ import annotations

import contextlib
import json


def assert_no_personal_data(text: str, secrets: tuple[str, ...]) -> None:
    """No secret appears in ``text`` or in its JSON reading (non-ASCII is escaped on the wire)."""
    readings = [text]
    with contextlib.suppress(ValueError):
        readings.append(json.dumps(json.loads(text), ensure_ascii=False))
    for secret in secrets:
        for reading in readings:
            assert secret not in reading, f"{secret!r} is repeated in: {reading[:500]}"
