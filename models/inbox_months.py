"""The inbox's monthly partitions: the month a moment falls in, and its partition's name."""

from __future__ import annotations

import datetime as dt
import re

PARENT = "ingestion_events"
DEFAULT_PARTITION = f"{PARENT}_default"
_MONTHLY = re.compile(rf"^{PARENT}_y(\d{{4}})m(\d{{2}})$")


def month_start(moment: dt.datetime) -> dt.date:
    """The first day of the calendar month (UTC) that ``moment`` falls in."""
    utc = moment.astimezone(dt.UTC)
    return dt.date(utc.year, utc.month, 1)


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``month`` (before, when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's partition bounds: its first instant (UTC), and the next month's."""
    first = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    following = add_months(month, 1)
    return first, dt.datetime(following.year, following.month, 1, tzinfo=dt.UTC)


def partition_name(month: dt.date) -> str:
    """The monthly partition's table name: ingestion_events_y2026m12."""
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def partition_month(name: str) -> dt.date | None:
    """The month a monthly partition's name stands for; None for any other name."""
    found = _MONTHLY.match(name)
    return dt.date(int(found[1]), int(found[2]), 1) if found else None


def is_inbox_partition(name: str) -> bool:
    """True for the inbox's partitions, which the models do not declare one by one."""
    return name == DEFAULT_PARTITION or partition_month(name) is not None
