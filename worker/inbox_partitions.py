"""The inbox's monthly partitions: made before they are needed, dropped once past retention.

Each function takes a session and never commits; the sweeper's task calls them on beat's
schedule (worker.tasks.maintain_inbox). Every change runs under one advisory transaction lock,
so two workers doing it at once take turns and the second finds the work done.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from models.inbox_months import (
    DEFAULT_PARTITION,
    PARENT,
    add_months,
    month_bounds,
    month_start,
    partition_month,
    partition_name,
)

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key for changing the inbox's partitions ("leadgate partitions").
PARTITIONS_LOCK = 7412019

_PARTITIONS = text(
    "SELECT child.relname FROM pg_inherits"
    " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
    " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
    " WHERE parent.relname = :parent"
)


def inbox_partitions(session: Session) -> set[str]:
    """The names of the inbox's partitions as they stand."""
    return set(session.scalars(_PARTITIONS, {"parent": PARENT}))


def _take_lock(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITIONS_LOCK})


def _create_partition(session: Session, month: dt.date) -> int:
    # Made as a plain table and attached: ATTACH takes a lock that lets inserts and reads go
    # on (CREATE ... PARTITION OF would block them all), and the month's rows that landed in
    # the default partition meanwhile (beat down across a month's turn) move in first, since
    # PostgreSQL refuses a partition whose rows the default partition already holds.
    name = partition_name(month)
    first, following = month_bounds(month)
    bounds = {"first": first, "following": following}
    # Literal bounds for the DDL (which takes no parameters), in UTC.
    low, high = f"'{first.isoformat()}'", f"'{following.isoformat()}'"
    session.execute(
        text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    result = session.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION}"  # noqa: S608 (names are ours)
            " WHERE received_time >= :first AND received_time < :following RETURNING *)"
            f" INSERT INTO {name} SELECT * FROM moved"
        ),
        bounds,
    )
    moved = int(result.rowcount or 0)  # type: ignore[attr-defined]
    # The range as a checked constraint lets ATTACH skip scanning the new table.
    session.execute(
        text(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_range"
            f" CHECK (received_time >= {low} AND received_time < {high})"
        )
    )
    session.execute(
        text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})")
    )
    session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range"))
    return moved


def ensure_partitions(session: Session, now: dt.datetime, months_ahead: int = 1) -> list[str]:
    """Create the partitions of this month and the next ``months_ahead``; the names created."""
    wanted = [add_months(month_start(now), ahead) for ahead in range(months_ahead + 1)]
    if {partition_name(month) for month in wanted} <= inbox_partitions(session):
        return []  # the usual case, without waiting for the lock
    _take_lock(session)
    existing = inbox_partitions(session)
    created = []
    for month in wanted:
        name = partition_name(month)
        if name in existing:
            continue
        moved = _create_partition(session, month)
        created.append(name)
        log.info("inbox partition %s created, %d events moved in from the default", name, moved)
    return created


def expired_partitions(names: set[str], now: dt.datetime, retention_months: int) -> list[str]:
    """The monthly partitions wholly older than ``retention_months`` full months before now."""
    # The current month and the N full months before it are kept; anything earlier goes.
    keep_from = add_months(month_start(now), -retention_months)
    months = {name: partition_month(name) for name in names}
    return sorted(name for name, month in months.items() if month is not None and month < keep_from)


def drop_expired_partitions(session: Session, now: dt.datetime, retention_months: int) -> list[str]:
    """Drop whole monthly partitions past the retention (0 keeps all); the names dropped.

    The default partition is never dropped: rows land there only while a month's partition
    is missing, and ensure_partitions moves them into it.
    """
    if retention_months <= 0:
        return []
    if not expired_partitions(inbox_partitions(session), now, retention_months):
        return []
    _take_lock(session)
    dropped = expired_partitions(inbox_partitions(session), now, retention_months)
    for name in dropped:
        # Detached first so the parent's lock is held only for the catalog change; the drop
        # then frees the month's files at once, never row by row.
        session.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
        session.execute(text(f"DROP TABLE {name}"))
        log.info("inbox partition %s dropped (older than %d months)", name, retention_months)
    return dropped
