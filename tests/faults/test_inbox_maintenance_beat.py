"""Scenario: beat's maintain-inbox entry, run by a real beat and worker, keeps the inbox's months.

With the upkeep every second (LEADGATE_INBOX_MAINTENANCE_SECONDS) and three months kept, a month
two years old that holds events is dropped, and next month's partition, taken away beforehand,
is made again, with no call from the test: the setting reaches beat, beat's entry reaches the
maintenance queue, and a worker on that queue does the work. With the default of ten minutes
nothing would happen within the deadline.

The suite's database is shared by its scenarios, whose events are all received now: the old
month is one no other scenario writes to, next month's partition is dropped only when empty,
and both are put back as they were at the end.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from models.inbox_months import (
    DEFAULT_PARTITION,
    PARENT,
    add_months,
    month_start,
    partition_name,
)
from tests.faults.conftest import FaultStack
from tests.support.factories import Tenant, make_event
from tests.support.invariants import session_on
from tests.support.servers import wait_until
from worker.inbox_partitions import PARTITIONS_LOCK, ensure_partitions, inbox_partitions

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

RETENTION_MONTHS = 3
OLD_MONTHS_AGO = 24
OLD_EVENTS = 3
DEADLINE_SECONDS = 60
INTERVAL_SECONDS = "1"


def _partitions(database_url: str) -> set[str]:
    """The inbox's partitions as they stand."""
    with session_on(database_url) as session:
        return inbox_partitions(session)


def _drop_partition(database_url: str, month: dt.date, only_if_empty: bool) -> None:
    """Detach and drop ``month``'s partition if it exists, under maintenance's own lock."""
    name = partition_name(month)
    with session_on(database_url) as session, session.begin():
        # The lock ensure_partitions takes: no maintenance run changes the months meanwhile.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITIONS_LOCK})
        if name not in inbox_partitions(session):
            return
        held = session.scalar(text(f"SELECT count(*) FROM {name}"))  # noqa: S608 (our name)
        if only_if_empty:
            assert held == 0, f"{name} holds {held} events of another scenario: not dropped"
        session.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
        session.execute(text(f"DROP TABLE {name}"))


def _store_events(
    database_url: str, tenant: Tenant, old_month: dt.date
) -> tuple[list[uuid.UUID], uuid.UUID]:
    """Make ``old_month``'s partition with done events in it, and one done event of now."""
    with session_on(database_url) as session, session.begin():
        first = dt.datetime(old_month.year, old_month.month, 1, tzinfo=dt.UTC)
        # A month no scenario has: this one's rows alone will be in it.
        assert ensure_partitions(session, first, months_ahead=0) == [partition_name(old_month)]
        old = [
            make_event(
                session,
                tenant,
                status=EventStatus.done,
                received_time=first + dt.timedelta(days=3, minutes=n),
            ).id
            for n in range(OLD_EVENTS)
        ]
        recent = make_event(session, tenant, status=EventStatus.done, received_time=utcnow())
        return old, recent.id


def _stored(database_url: str, event_ids: list[uuid.UUID]) -> int:
    """How many of the events the inbox still holds."""
    with session_on(database_url) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(IngestionEvent)
                .where(IngestionEvent.id.in_(event_ids))
            )
            or 0
        )


@pytest.fixture
def months(stack: FaultStack) -> Iterator[tuple[dt.date, dt.date]]:
    """The old month and next month; at the end, the old one gone and next month's back."""
    this_month = month_start(utcnow())
    old_month = add_months(this_month, -OLD_MONTHS_AGO)
    next_month = add_months(this_month, 1)
    try:
        yield old_month, next_month
    finally:
        # Whatever the scenario got to: the suite's database as the next scenario expects it.
        _drop_partition(stack.database_url, old_month, only_if_empty=False)
        with session_on(stack.database_url) as session, session.begin():
            ensure_partitions(session, utcnow())


def test_beat_runs_the_inbox_maintenance_on_its_interval(
    stack: FaultStack, months: tuple[dt.date, dt.date]
) -> None:
    old_month, next_month = months
    old_name, next_name = partition_name(old_month), partition_name(next_month)
    tenant = stack.tenant()
    old_events, recent_event = _store_events(stack.database_url, tenant, old_month)
    _drop_partition(stack.database_url, next_month, only_if_empty=True)
    before = _partitions(stack.database_url)
    assert old_name in before and next_name not in before

    stack.worker(
        "maintainer",
        queues="maintenance",
        LEADGATE_EVENT_RETENTION_MONTHS=str(RETENTION_MONTHS),
    )
    beat = stack.beat(
        LEADGATE_INBOX_MAINTENANCE_SECONDS=INTERVAL_SECONDS,
        # Sweeps once an hour: the maintenance queue carries the inbox's upkeep alone.
        LEADGATE_SWEEP_INTERVAL_SECONDS="3600",
    )

    def maintained() -> bool:
        names = _partitions(stack.database_url)
        return old_name not in names and next_name in names

    assert wait_until(maintained, timeout=DEADLINE_SECONDS, interval=0.5), (
        f"after {DEADLINE_SECONDS} s the partitions are {sorted(_partitions(stack.database_url))}"
    )
    after = _partitions(stack.database_url)
    this_name = partition_name(month_start(utcnow()))
    assert {this_name, next_name, DEFAULT_PARTITION} <= after
    assert _stored(stack.database_url, old_events) == 0
    assert _stored(stack.database_url, [recent_event]) == 1
    assert "Sending due task maintain-inbox (leadgate.maintain_inbox)" in beat.log()
