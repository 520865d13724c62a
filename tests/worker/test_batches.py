"""Batches: claimed events applied in receive order in one transaction, else one by one."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import worker.attempts
import worker.batches
from common.settings import get_settings
from models import IngestionEvent, Lead
from models.enums import EventAction, EventStatus
from models.ingestion_event import FRESH_EVENTS
from tests.support.factories import Tenant, make_event, make_tenant
from worker.ingest.claims import claim_events, prepare_claim
from worker.ingest.pipeline import ClaimedEvent, Outcome, process_claims

PHONE = "+12024561111"


def _event(session: Session, tenant: Tenant, body: dict[str, Any], **values: Any) -> uuid.UUID:
    return make_event(session, tenant, body, **values).id


def _claim(session: Session, event_id: uuid.UUID, batch_size: int = 32) -> list[ClaimedEvent]:
    claims = claim_events(
        session, event_id, lease_seconds=60, max_attempts=8, batch_size=batch_size
    )
    return [(claim, prepare_claim(claim)) for claim in claims]


def _by_event(
    batch: list[ClaimedEvent], outcomes: list[Outcome | None]
) -> dict[uuid.UUID, Outcome]:
    pairs = zip([claim.event_id for claim, _ in batch], outcomes, strict=True)
    return {event_id: outcome for event_id, outcome in pairs if outcome is not None}


def test_events_of_one_person_in_a_batch_apply_in_receive_order(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    first = _event(
        db_session, tenant, {"external_id": "P1", "phone_number": PHONE, "email": "a@x.io"}
    )
    second = _event(db_session, tenant, {"external_id": "P1", "lead_source": "second"})
    third = _event(db_session, tenant, {"phone_number": PHONE, "lead_source": "third"})
    someone_else = _event(db_session, tenant, {"phone_number": "+12024562222"})
    batch = _claim(db_session, first)
    assert len(batch) == 4

    given = list(reversed(batch))  # the order given does not matter
    outcomes = _by_event(given, process_claims(db_session, given))

    assert outcomes.keys() == {first, second, third, someone_else}
    assert outcomes[first].action == EventAction.created
    assert outcomes[second].action == EventAction.updated
    assert outcomes[third].matched_by == "phone_number"
    lead_ids = {outcomes[event].lead_id for event in (first, second, third)}
    assert len(lead_ids) == 1 and None not in lead_ids
    lead = db_session.get_one(Lead, lead_ids.pop())
    assert (lead.lead_source, lead.email, lead.external_id) == ("third", "a@x.io", "P1")
    other = outcomes[someone_else]
    assert other.action == EventAction.created and other.lead_id != lead.id
    db_session.expire_all()
    rows = db_session.execute(
        select(IngestionEvent.status, IngestionEvent.lead_id).where(
            IngestionEvent.id.in_([first, second, third, someone_else])
        )
    ).all()
    assert {row.status for row in rows} == {EventStatus.done}
    assert all(row.lead_id is not None for row in rows)


def test_an_invalid_event_fails_alone_and_a_taken_over_one_is_left_alone(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    good = _event(db_session, tenant, {"phone_number": PHONE})
    invalid = _event(db_session, tenant, {"phone_number": "not a phone"})
    taken = _event(db_session, tenant, {"phone_number": "+12024563333"})
    batch = _claim(db_session, good)
    # Another worker took one over meanwhile (its lease had run out).
    db_session.get_one(IngestionEvent, taken).attempts = 2
    db_session.flush()

    outcomes = _by_event(batch, process_claims(db_session, batch))

    assert outcomes.keys() == {good, invalid}  # nothing for the one taken over
    assert outcomes[good].action == EventAction.created
    assert outcomes[invalid].status == EventStatus.failed
    assert [error["field"] for error in outcomes[invalid].errors] == ["phone_number"]
    db_session.expire_all()
    assert db_session.get_one(IngestionEvent, taken).status == EventStatus.processing


def _committed_batch(
    session: Session, phone_prefix: str
) -> tuple[list[uuid.UUID], list[ClaimedEvent]]:
    """Four committed events of a new tenant, claimed as one committed batch."""
    tenant = make_tenant(session)
    ids = [_event(session, tenant, {"phone_number": f"{phone_prefix}{n:04d}"}) for n in range(4)]
    session.commit()
    batch = _claim(session, ids[0])
    session.commit()
    return ids, batch


def test_a_failing_batch_is_retried_event_by_event(
    committed_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, batch = _committed_batch(committed_session, "+1202456")
    poisoned = ids[2]
    real = process_claims

    def process(session: Session, items: list[ClaimedEvent], **options: Any) -> Any:
        if any(claim.event_id == poisoned for claim, _ in items):
            raise OperationalError("SELECT 1", {}, Exception("connection lost"))
        return real(session, items, **options)

    monkeypatch.setattr(worker.batches, "process_claims", process)

    retries = worker.attempts.run_batch(batch)

    assert [retry.claim.event_id for retry in retries] == [poisoned]
    committed_session.expire_all()
    statuses = {
        row.id: row.status
        for row in committed_session.execute(
            select(IngestionEvent.id, IngestionEvent.status).where(IngestionEvent.id.in_(ids))
        )
    }
    assert statuses.pop(poisoned) == EventStatus.retrying
    assert set(statuses.values()) == {EventStatus.done}


def test_with_the_database_down_a_failed_batch_waits_out_its_lease(
    committed_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, batch = _committed_batch(committed_session, "+1202457")
    attempts: list[int] = []

    def down(*_: Any, **__: Any) -> Any:
        attempts.append(1)
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(worker.batches, "process_claims", down)
    monkeypatch.setattr(worker.attempts, "record_transient_error", down)

    retries = worker.attempts.run_batch(batch)

    # The batch, then one event alone and its record: the other three are not tried in turn.
    assert len(attempts) == 3
    assert [retry.claim.event_id for retry in retries] == ids
    assert not any(retry.recorded for retry in retries)
    lease = get_settings().lease_seconds
    assert all(retry.seconds >= lease for retry in retries)


def test_the_batch_claim_states_the_partial_index_condition_without_parameters() -> None:
    # A prepared statement's generic plan uses a partial index only when the query states its
    # predicate as constants; with parameters, claims walked the whole inbox. The live index is
    # checked against the same condition in tests/models/test_ingestion_event.py.
    from sqlalchemy.dialects import postgresql

    from worker.ingest.claims import _CLAIM_FRESH

    index = next(
        index
        for index in cast(Table, IngestionEvent.__table__).indexes
        if index.name == "ix_ingestion_events_config_id_seq_fresh"
    )
    assert str(index.dialect_options["postgresql"]["where"]) == FRESH_EVENTS
    sql = str(_CLAIM_FRESH.compile(dialect=postgresql.dialect()))
    assert f"{FRESH_EVENTS} AND" in sql
    assert "%(of_config)s" in sql  # the config is a parameter; the index condition is not
