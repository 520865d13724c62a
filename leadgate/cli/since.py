"""``--since`` values: a time span ago (``30m``, ``1h``, ``7d``) or an ISO 8601 time."""

from __future__ import annotations

import datetime as dt
import re

import click

from models.base import utcnow

_SPAN = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
EXAMPLES = "a span like 30m, 1h, 7d or an ISO 8601 time like 2026-11-27T09:00:00Z"


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """The moment ``text`` names; a time without an offset is UTC. Raises ``ValueError``."""
    value = text.strip()
    span = _SPAN.fullmatch(value)
    if span is not None:
        seconds = int(span.group(1)) * _UNIT_SECONDS[span.group(2).lower()]
        return (now or utcnow()) - dt.timedelta(seconds=seconds)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not {EXAMPLES}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def since_option(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> dt.datetime | None:
    """A click callback for ``--since``: a bad value is a usage error naming the option."""
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
