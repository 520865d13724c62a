"""Claiming events: the named event under a lease, fresh ones batched behind it, dead at the end."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import Endpoint, EventStatus
from tests.support.factories import make_config, make_event, make_tenant
from worker.ingest.claims import claim_event, claim_events, prepare_claim

PHONE = "+12024561111"
LEASE = 60.0


def _claimed_ids(session: Session, event_id: uuid.UUID, batch_size: int) -> list[uuid.UUID]:
    claims = claim_events(session, event_id, LEASE, max_attempts=8, batch_size=batch_size)
    return [claim.event_id for claim in claims]


def _row(session: Session, event_id: uuid.UUID) -> IngestionEvent:
    session.expire_all()
    return session.get_one(IngestionEvent, event_id)


def test_a_queued_event_is_claimed_under_a_lease_with_what_processing_needs(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    event = make_event(
        db_session,
        tenant,
        {"phone_number": PHONE, "lead_source": "body"},
        endpoint=Endpoint.create,
        query_string="lead_source=query&utm_source=ads",
    )
    before = utcnow()

    claim = claim_event(db_session, event.id, LEASE, max_attempts=8)

    assert claim is not None
    assert (claim.event_id, claim.attempt, claim.seq) == (event.id, 1, event.seq)
    assert (claim.endpoint, claim.organization_id) == (Endpoint.create, tenant.organization_id)
    assert claim.config.id == tenant.config_id
    assert claim.received_time == event.received_time
    # The query string fills what the body lacks; the body's own keys win.
    assert claim.payload == {"phone_number": PHONE, "lead_source": "body", "utm_source": "ads"}
    assert claim.payload_error is None
    row = _row(db_session, event.id)
    assert (row.status, row.attempts) == (EventStatus.processing, 1)
    assert row.next_attempt_time is not None
    lease = row.next_attempt_time - before
    assert dt.timedelta(seconds=LEASE) <= lease < dt.timedelta(seconds=LEASE + 30)


def test_a_retrying_event_is_claimed_for_its_next_attempt(db_session: Session) -> None:
    event = make_event(db_session, make_tenant(db_session), status=EventStatus.retrying, attempts=2)

    claim = claim_event(db_session, event.id, LEASE, max_attempts=8)

    assert claim is not None and claim.attempt == 3
    assert _row(db_session, event.id).status == EventStatus.processing


@pytest.mark.parametrize("status", [EventStatus.done, EventStatus.failed, EventStatus.dead])
def test_a_finished_event_is_never_claimed_nor_touched(
    db_session: Session, status: EventStatus
) -> None:
    event = make_event(db_session, make_tenant(db_session), status=status, attempts=1)

    assert claim_events(db_session, event.id, LEASE, max_attempts=8, batch_size=4) == []
    row = _row(db_session, event.id)
    assert (row.status, row.attempts, row.next_attempt_time) == (status, 1, None)


def test_an_unknown_event_is_not_claimed(db_session: Session) -> None:
    assert claim_event(db_session, uuid.uuid4(), LEASE, max_attempts=8) is None


def test_a_live_lease_keeps_the_event_and_an_expired_one_gives_it_up(db_session: Session) -> None:
    event = make_event(db_session, make_tenant(db_session))
    assert claim_event(db_session, event.id, LEASE, max_attempts=8) is not None

    # A second message (a redelivery, the sweeper's copy) finds the lease running.
    assert claim_event(db_session, event.id, LEASE, max_attempts=8) is None
    assert _row(db_session, event.id).attempts == 1

    # The worker died: once its lease ran out the event is claimed again, as a new attempt.
    _row(db_session, event.id).next_attempt_time = utcnow() - dt.timedelta(seconds=1)
    db_session.flush()
    again = claim_event(db_session, event.id, LEASE, max_attempts=8)
    assert again is not None and again.attempt == 2


def test_the_last_allowed_attempt_is_claimed(db_session: Session) -> None:
    event = make_event(db_session, make_tenant(db_session), status=EventStatus.retrying, attempts=2)

    claim = claim_event(db_session, event.id, LEASE, max_attempts=3)

    assert claim is not None and claim.attempt == 3


def test_an_event_past_its_attempts_is_declared_dead_at_the_claim(db_session: Session) -> None:
    # Its last attempt died with its worker (an expired lease), so none recorded an error.
    event = make_event(
        db_session,
        make_tenant(db_session),
        status=EventStatus.processing,
        attempts=3,
        next_attempt_time=utcnow() - dt.timedelta(seconds=1),
    )

    assert claim_events(db_session, event.id, LEASE, max_attempts=3, batch_size=4) == []

    dead = _row(db_session, event.id)
    assert dead.status == EventStatus.dead
    assert dead.last_error == "gave up after 3 attempts; the last died"
    assert dead.next_attempt_time is None and dead.processed_time is not None


def test_fresh_events_of_the_same_config_ride_along_oldest_first(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    other = make_config(db_session, tenant.organization_id, tenant.campaign_id)
    named = make_event(db_session, tenant).id
    fresh = [make_event(db_session, tenant).id for _ in range(5)]
    make_event(db_session, tenant, config_id=other.id)
    make_event(db_session, tenant, status=EventStatus.retrying, attempts=1)
    make_event(db_session, tenant, status=EventStatus.done, attempts=1)

    claims = claim_events(db_session, named, LEASE, max_attempts=8, batch_size=4)

    assert [claim.event_id for claim in claims] == [named, *fresh[:3]]
    assert all(claim.attempt == 1 for claim in claims)
    # The rest stay queued for the next message; the others were never fresh or are elsewhere.
    assert _claimed_ids(db_session, fresh[3], batch_size=4) == fresh[3:]
    for event_id in fresh[:3]:
        row = _row(db_session, event_id)
        assert (row.status, row.attempts) == (EventStatus.processing, 1)
        assert row.next_attempt_time is not None


def test_an_event_on_a_later_attempt_is_never_batched(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    retried = make_event(db_session, tenant, status=EventStatus.retrying, attempts=1).id
    queued = make_event(db_session, tenant).id

    claims = claim_events(db_session, retried, LEASE, max_attempts=8, batch_size=32)

    assert [(claim.event_id, claim.attempt) for claim in claims] == [(retried, 2)]
    assert claim_event(db_session, queued, LEASE, max_attempts=8) is not None


def test_a_batch_of_one_claims_the_named_event_alone(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    named = make_event(db_session, tenant).id
    behind = make_event(db_session, tenant).id

    assert _claimed_ids(db_session, named, batch_size=1) == [named]
    assert _row(db_session, behind).status == EventStatus.queued


@pytest.fixture
def other_transaction(engine: Engine) -> Iterator[Session]:
    """A second session, as another worker's transaction would be."""
    with Session(engine) as session:
        yield session
        session.rollback()


def test_a_batch_passes_over_rows_another_worker_is_claiming(
    committed_session: Session, other_transaction: Session
) -> None:
    tenant = make_tenant(committed_session)
    named, locked, free = (make_event(committed_session, tenant).id for _ in range(3))
    committed_session.commit()
    # Another worker's claim holds this row; waiting for it would stall this one.
    other_transaction.execute(
        select(IngestionEvent.id).where(IngestionEvent.id == locked).with_for_update()
    )

    # Were the claim to wait instead, it would fail here rather than hang the suite.
    committed_session.execute(text("SET LOCAL lock_timeout = '2s'"))
    assert _claimed_ids(committed_session, named, batch_size=3) == [named, free]
    committed_session.commit()
    other_transaction.rollback()
    assert _row(committed_session, locked).status == EventStatus.queued


def test_an_unparseable_stored_body_is_claimed_and_fails_on_the_body(db_session: Session) -> None:
    event = make_event(db_session, make_tenant(db_session), b"[not json")

    claim = claim_event(db_session, event.id, LEASE, max_attempts=8)

    assert claim is not None and claim.payload_error is not None and claim.payload == {}
    assert [error.field for error in prepare_claim(claim).errors] == ["body"]
