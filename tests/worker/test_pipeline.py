"""Claiming events: one holder at a time, expired leases reclaimed, hopeless ones declared dead."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import Endpoint, EventStatus
from tests.support.factories import Tenant, make_tenant
from worker.ingest.claims import claim_event, prepare_claim
from worker.ingest.pipeline import process_claim, record_transient_error


def _event(session: Session, tenant: Tenant, body: bytes = b'{"phone_number": "2024561111"}'):
    event = IngestionEvent(
        config_id=tenant.config_id,
        organization_id=tenant.organization_id,
        endpoint=Endpoint.upsert,
        content_type="application/json",
        raw_body=body,
        body_sha256="0" * 64,
        status=EventStatus.queued,
    )
    session.add(event)
    session.flush()
    return event


def test_claim_holds_the_event_until_its_lease_runs_out(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    event = _event(db_session, tenant)
    first = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert first is not None and first.attempt == 1
    assert claim_event(db_session, event.id, lease_seconds=60, max_attempts=8) is None
    db_session.expire_all()
    event.next_attempt_time = utcnow() - dt.timedelta(seconds=1)
    db_session.flush()
    second = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert second is not None and second.attempt == 2


def test_terminal_events_are_never_claimed(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    for status in (EventStatus.done, EventStatus.failed, EventStatus.dead):
        event = _event(db_session, tenant)
        event.status = status
        db_session.flush()
        assert claim_event(db_session, event.id, lease_seconds=60, max_attempts=8) is None


def test_event_past_its_attempts_is_declared_dead(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    event = _event(db_session, tenant)
    event.attempts = 3
    event.status = EventStatus.retrying
    db_session.flush()
    assert claim_event(db_session, event.id, lease_seconds=60, max_attempts=3) is None
    db_session.expire_all()
    dead = db_session.get(IngestionEvent, event.id)
    assert dead is not None and dead.status == EventStatus.dead
    assert "3 attempts" in (dead.last_error or "")


def test_unparseable_stored_body_becomes_a_body_error(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    event = _event(db_session, tenant, body=b"[not json")
    claim = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    prepared = prepare_claim(claim)
    assert [error.field for error in prepared.errors] == ["body"]


def test_an_attempt_taken_over_records_neither_outcome_nor_error(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    event = _event(db_session, tenant)
    first = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert first is not None
    db_session.expire_all()
    event.next_attempt_time = utcnow() - dt.timedelta(seconds=1)  # the first worker stalled
    db_session.flush()
    second = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert second is not None and second.attempt == 2
    # The stalled first attempt comes back: its error and its outcome are both ignored.
    assert record_transient_error(db_session, event.id, first.attempt, "late", 8, 1.0) is None
    assert process_claim(db_session, first, prepare_claim(first)) is None
    db_session.expire_all()
    held = db_session.get(IngestionEvent, event.id)
    assert held is not None and held.status == EventStatus.processing and held.attempts == 2
    assert held.last_error is None
    assert record_transient_error(db_session, event.id, 2, "lost", 2, 1.0) == EventStatus.dead


def test_metadata_over_the_limit_after_the_merge_is_an_error() -> None:
    from worker.ingest.pipeline import MAX_METADATA_BYTES, metadata_size_error

    existing = {"notes": "x" * (MAX_METADATA_BYTES - 100)}
    assert metadata_size_error(existing, {}) is None
    assert metadata_size_error(existing, {"small": 1}) is None
    error = metadata_size_error(existing, {"more": "y" * 200})
    assert error is not None and error.field == "metadata"
    assert str(MAX_METADATA_BYTES) in error.message
    # Replacing a key counts the merged size, not the sum.
    assert metadata_size_error(existing, {"notes": "short"}) is None
