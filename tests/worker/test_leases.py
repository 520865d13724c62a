"""Leases that renew: short while a worker lives, lapsed soon after it stops, never overreaching."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from tests.support.factories import make_event, make_tenant
from worker.ingest.claims import Claim, claim_event
from worker.ingest.event_rows import lock_event_rows
from worker.leases import (
    LeaseKeeper,
    attempt_has_ended,
    attempt_name,
    leases_kept,
    named_attempt_has_ended,
    renew_leases,
)
from worker.sweeper import claim_due_events

SHORT_LEASE = 0.6


@pytest.fixture
def claimed(committed_session: Session) -> Iterator[tuple[uuid.UUID, int]]:
    """A committed event claimed under a short lease: its (id, attempt)."""
    tenant = make_tenant(committed_session)
    event = make_event(committed_session, tenant, {"phone_number": "+12024569001"})
    committed_session.commit()
    claim = claim_event(committed_session, event.id, SHORT_LEASE, max_attempts=8)
    committed_session.commit()
    assert claim is not None
    yield claim.event_id, claim.attempt
    committed_session.rollback()


def _swept(engine: Engine, event_id: uuid.UUID) -> bool:
    """Whether a sweep now would reclaim the event (the sweep itself is rolled back)."""
    with Session(engine) as session:
        picked = event_id in claim_due_events(session, stuck_after_seconds=120, limit=100_000)
        session.rollback()
    return picked


def test_renewal_extends_only_the_attempt_that_holds_the_event(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    held = make_event(db_session, tenant, status=EventStatus.processing, attempts=2)
    taken_over = make_event(db_session, tenant, status=EventStatus.processing, attempts=3)
    finished = make_event(db_session, tenant, status=EventStatus.done, attempts=2)

    renewed = renew_leases(
        db_session, [(held.id, 2), (taken_over.id, 2), (finished.id, 2)], lease_seconds=30
    )

    assert renewed == 1
    db_session.expire_all()
    leases = dict(
        db_session.execute(
            select(IngestionEvent.id, IngestionEvent.next_attempt_time).where(
                IngestionEvent.id.in_([held.id, taken_over.id, finished.id])
            )
        ).all()
    )
    assert leases[held.id] is not None
    assert leases[taken_over.id] is None and leases[finished.id] is None


def test_renewal_passes_over_rows_a_transaction_holds_without_waiting(
    engine: Engine, claimed: tuple[uuid.UUID, int]
) -> None:
    event_id, attempt = claimed
    with Session(engine) as batch, Session(engine) as keeper:
        # The batch transaction's row lock (as worker.ingest.event_rows takes it).
        assert lock_event_rows(batch, [_claim_stub(event_id, attempt)]) == {event_id}
        started = time.monotonic()
        assert renew_leases(keeper, [(event_id, attempt)], lease_seconds=30) == 0
        keeper.rollback()
        assert time.monotonic() - started < 2  # passed over, not waited for
        batch.rollback()


def test_a_live_worker_keeps_its_short_lease_and_a_stopped_one_loses_it(
    engine: Engine, claimed: tuple[uuid.UUID, int]
) -> None:
    event_id, _ = claimed
    with leases_kept([claimed], SHORT_LEASE, hold_seconds=60) as keeper:
        time.sleep(SHORT_LEASE * 3)
        # Three leases long, and still held: the keeper renewed it.
        assert not _swept(engine, event_id)
    assert keeper.renewals >= 3
    time.sleep(SHORT_LEASE * 1.5)
    assert _swept(engine, event_id)


def test_renewal_stops_at_the_longest_hold(engine: Engine, claimed: tuple[uuid.UUID, int]) -> None:
    event_id, _ = claimed
    keeper = LeaseKeeper([claimed], SHORT_LEASE, hold_seconds=SHORT_LEASE).start()
    try:
        time.sleep(SHORT_LEASE * 4)
        # The worker still "runs", yet the hold limit passed: a hung worker lets its events go.
        assert _swept(engine, event_id)
    finally:
        keeper.stop()


def test_a_lapsed_attempt_neither_renews_nor_records_once_the_event_was_taken_over(
    committed_session: Session, engine: Engine, claimed: tuple[uuid.UUID, int]
) -> None:
    event_id, first_attempt = claimed
    time.sleep(SHORT_LEASE * 1.5)  # no keeper: the first attempt's worker "died"
    with Session(engine) as sweeper:
        assert event_id in claim_due_events(sweeper, stuck_after_seconds=120, limit=100_000)
        sweeper.commit()
    second = claim_event(committed_session, event_id, 30, max_attempts=8)
    committed_session.commit()
    assert second is not None and second.attempt == first_attempt + 1

    # The first attempt wakes up: its renewal touches nothing, and its transaction sees the
    # event is no longer its own, so it writes nothing for it.
    assert renew_leases(committed_session, [claimed], lease_seconds=30) == 0
    assert lock_event_rows(committed_session, [_claim_stub(event_id, first_attempt)]) == set()
    committed_session.rollback()


def test_an_attempt_has_ended_once_its_event_is_not_held_under_its_live_lease(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    lease_ahead = utcnow() + dt.timedelta(seconds=30)
    lease_past = utcnow() - dt.timedelta(seconds=1)
    running = make_event(
        db_session, tenant, status=EventStatus.processing, attempts=1, next_attempt_time=lease_ahead
    )
    lapsed = make_event(
        db_session, tenant, status=EventStatus.processing, attempts=1, next_attempt_time=lease_past
    )
    taken_over = make_event(
        db_session, tenant, status=EventStatus.processing, attempts=2, next_attempt_time=lease_ahead
    )
    swept = make_event(db_session, tenant, status=EventStatus.retrying, attempts=1)
    finished = make_event(db_session, tenant, status=EventStatus.done, attempts=1)

    assert not attempt_has_ended(db_session, running.id, 1)
    for ended in (lapsed, taken_over, swept, finished):
        assert attempt_has_ended(db_session, ended.id, 1), ended.status


def test_an_attempt_is_asked_about_by_its_name(
    engine: Engine, claimed: tuple[uuid.UUID, int]
) -> None:
    event_id, attempt = claimed
    with leases_kept([claimed], SHORT_LEASE, hold_seconds=60):
        assert not named_attempt_has_ended(attempt_name(event_id, attempt))
        assert named_attempt_has_ended(attempt_name(event_id, attempt + 1))
    time.sleep(SHORT_LEASE * 1.5)  # no keeper now: the lease runs out
    assert named_attempt_has_ended(attempt_name(event_id, attempt))
    # A name that is no attempt of ours cannot be told ended: its holder is waited for.
    assert not named_attempt_has_ended("someone-else")


def _claim_stub(event_id: uuid.UUID, attempt: int) -> Claim:
    """What ``lock_event_rows`` reads of a claim: its event and attempt."""
    return cast(Claim, SimpleNamespace(event_id=event_id, attempt=attempt))
