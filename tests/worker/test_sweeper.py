"""The sweeper picks events the broker lost, orphaned leases and overdue retries, once each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from tests.support.factories import make_event, make_tenant
from worker.sweeper import claim_due_events


def _event(session: Session, tenant, status: EventStatus, age: float, next_in: float | None):
    now = utcnow()
    return make_event(
        session,
        tenant,
        status=status,
        received_time=now - dt.timedelta(seconds=age),
        next_attempt_time=None if next_in is None else now + dt.timedelta(seconds=next_in),
    )


def test_sweep_picks_what_is_stuck_and_nothing_else(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lost = _event(db_session, tenant, EventStatus.queued, age=300, next_in=None)
    fresh = _event(db_session, tenant, EventStatus.queued, age=1, next_in=None)
    orphaned = _event(db_session, tenant, EventStatus.processing, age=300, next_in=-5)
    leased = _event(db_session, tenant, EventStatus.processing, age=300, next_in=60)
    overdue = _event(db_session, tenant, EventStatus.retrying, age=600, next_in=-300)
    scheduled = _event(db_session, tenant, EventStatus.retrying, age=600, next_in=30)
    done = _event(db_session, tenant, EventStatus.done, age=600, next_in=None)
    picked = set(claim_due_events(db_session, stuck_after_seconds=120))
    assert {lost.id, orphaned.id, overdue.id} <= picked
    assert not {fresh.id, leased.id, scheduled.id, done.id} & picked
    db_session.expire_all()
    reclaimed = db_session.get(IngestionEvent, orphaned.id)
    assert reclaimed is not None
    assert reclaimed.status == EventStatus.retrying
    # A second sweep right after finds nothing new among these.
    again = set(claim_due_events(db_session, stuck_after_seconds=120))
    assert not {lost.id, orphaned.id, overdue.id} & again


def test_a_queued_event_is_due_at_the_first_check_its_receipt_set(db_session: Session) -> None:
    # The inbox stores each event with its first check (received + stuck_after) already set.
    tenant = make_tenant(db_session)
    due = _event(db_session, tenant, EventStatus.queued, age=130, next_in=-10)
    not_yet = _event(db_session, tenant, EventStatus.queued, age=100, next_in=20)
    picked = set(claim_due_events(db_session, stuck_after_seconds=120))
    assert due.id in picked
    assert not_yet.id not in picked


def _only_these_queued(session: Session) -> None:
    # Events other tests committed would count among the queued ones; set them aside (rolled back).
    session.execute(
        update(IngestionEvent)
        .where(IngestionEvent.status == EventStatus.queued)
        .values(status=EventStatus.done)
    )


def test_queued_events_whose_messages_still_wait_in_the_broker_are_left_alone(
    db_session: Session,
) -> None:
    _only_these_queued(db_session)
    tenant = make_tenant(db_session)
    lost = [_event(db_session, tenant, EventStatus.queued, age=300, next_in=None) for _ in range(2)]
    waiting = [
        _event(db_session, tenant, EventStatus.queued, age=200, next_in=None) for _ in range(2)
    ]
    # An old event the sweeper enqueued again a second ago (its next check is an interval on).
    copied = _event(db_session, tenant, EventStatus.queued, age=900, next_in=-1)
    orphaned = _event(db_session, tenant, EventStatus.processing, age=300, next_in=-5)
    own = {event.id for event in [*lost, *waiting, copied, orphaned]}
    # Three messages wait in the broker: the copy and the two events received last.
    picked = set(claim_due_events(db_session, stuck_after_seconds=120, waiting_in_broker=3)) & own
    assert picked == {lost[0].id, lost[1].id, orphaned.id}


def test_no_queued_event_is_picked_while_the_broker_holds_more_messages(
    db_session: Session,
) -> None:
    _only_these_queued(db_session)
    tenant = make_tenant(db_session)
    queued = _event(db_session, tenant, EventStatus.queued, age=300, next_in=None)
    picked = claim_due_events(db_session, stuck_after_seconds=120, waiting_in_broker=2)
    assert queued.id not in picked
