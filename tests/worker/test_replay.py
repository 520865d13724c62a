"""Replaying failed and dead events: back to queued by compare-and-set, stamped with its time."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from common.settings import get_settings
from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from tests.support.factories import make_event, make_tenant
from worker.ingest.claims import claim_event
from worker.replay import requeue_events
from worker.sweeper import claim_due_events

PHONE = "+12024561111"
LEASE = 60.0


@pytest.mark.parametrize("status", [EventStatus.failed, EventStatus.dead])
def test_a_replay_requeues_the_event_stamped_with_its_time_and_the_claim_carries_it(
    db_session: Session, status: EventStatus
) -> None:
    tenant = make_tenant(db_session)
    week_ago = utcnow() - dt.timedelta(days=7)
    event = make_event(
        db_session,
        tenant,
        {"phone_number": PHONE},
        status=status,
        attempts=8,
        received_time=week_ago,
        processed_time=week_ago,
        errors=[{"field": "phone_number", "message": "no"}],
        last_error="no",
    )
    before = utcnow()

    assert requeue_events(db_session, [event.id]) == [event.id]

    db_session.expire_all()
    row = db_session.get_one(IngestionEvent, event.id)
    assert (row.status, row.attempts, row.errors, row.last_error) == (
        EventStatus.queued, 0, [], None,
    )  # fmt: skip
    assert row.processed_time is None and row.received_time == week_ago
    assert row.replayed_time is not None and before <= row.replayed_time <= utcnow()
    claim = claim_event(db_session, event.id, LEASE, max_attempts=8)
    assert claim is not None
    assert (claim.replayed_time, claim.received_time) == (row.replayed_time, week_ago)


def test_a_first_delivery_is_claimed_without_a_replay_time(db_session: Session) -> None:
    event = make_event(db_session, make_tenant(db_session), {"phone_number": PHONE})

    claim = claim_event(db_session, event.id, LEASE, max_attempts=8)

    assert claim is not None and claim.replayed_time is None


@pytest.mark.parametrize(
    "status",
    [EventStatus.queued, EventStatus.processing, EventStatus.retrying, EventStatus.done],
)
def test_only_failed_and_dead_events_are_requeued(db_session: Session, status: EventStatus) -> None:
    event = make_event(db_session, make_tenant(db_session), status=status)

    assert requeue_events(db_session, [event.id]) == []

    db_session.expire_all()
    row = db_session.get_one(IngestionEvent, event.id)
    assert (row.status, row.replayed_time) == (status, None)


def test_a_replayed_event_is_not_due_for_the_sweeper_until_an_interval_after_its_requeue(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    week_ago = utcnow() - dt.timedelta(days=7)
    event = make_event(db_session, tenant, status=EventStatus.failed, received_time=week_ago)
    assert requeue_events(db_session, [event.id]) == [event.id]
    db_session.expire_all()
    row = db_session.get_one(IngestionEvent, event.id)
    assert row.next_attempt_time is not None and row.replayed_time is not None
    stuck_after = get_settings().stuck_after
    assert row.next_attempt_time - row.replayed_time == stuck_after
    # Received a week ago, yet its message has just gone out: the sweep leaves it alone now...
    assert event.id not in claim_due_events(db_session, stuck_after.total_seconds())
    # ...and takes it once the interval has passed with no worker having claimed it.
    later = utcnow() + stuck_after + dt.timedelta(seconds=1)
    assert event.id in claim_due_events(db_session, stuck_after.total_seconds(), now=later)
