"""When a failed delivery is tried again: the retry schedule, with jitter, or ``Retry-After``."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Sequence

# A receiver's Retry-After is honoured up to a day; beyond that it is taken as a day.
MAX_RETRY_AFTER_SECONDS = 86400.0
# Each wait is moved by up to this fraction either way, so receivers that failed together are
# not all retried in the same second.
JITTER = 0.1


def retry_after_seconds(header: str | None, now: dt.datetime) -> float | None:
    """The seconds a ``Retry-After`` header asks for (delay or HTTP date); None if unreadable."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def next_wait(
    attempts_made: int, schedule: Sequence[float], retry_after: float | None = None
) -> float | None:
    """Seconds until the next attempt after ``attempts_made`` failed ones; None: give up.

    The schedule's first entry is the first attempt's delay (0: at once); entry n is the wait
    before attempt n + 1. A receiver's ``Retry-After`` (429, 503) replaces the schedule's wait.
    """
    if attempts_made >= len(schedule):
        return None
    if retry_after is not None:
        return retry_after
    wait = schedule[attempts_made]
    return wait * random.uniform(1 - JITTER, 1 + JITTER)
