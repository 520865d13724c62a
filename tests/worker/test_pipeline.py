"""The pipeline: an event claimed, decided, applied and recorded in one transaction."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from models.base import utcnow
from models.enums import Endpoint, EventAction, EventStatus, LeadStatus, StatusReason
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.leads import days_ago, make_lead
from worker.ingest.claims import claim_event, prepare_claim, searchable_payload
from worker.ingest.pipeline import process_claim, record_transient_error


def _event(
    session: Session, tenant: Tenant, body: bytes = b'{"phone_number": "2024561111"}'
) -> IngestionEvent:
    return make_event(session, tenant, body)


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


def test_metadata_over_the_limit_is_an_error() -> None:
    from worker.ingest.metadata_cap import MAX_METADATA_BYTES, metadata_size_error

    assert metadata_size_error({"notes": "x" * (MAX_METADATA_BYTES - 100)}) is None
    error = metadata_size_error({"notes": "x" * MAX_METADATA_BYTES})
    assert error is not None and error.field == "metadata"
    assert str(MAX_METADATA_BYTES) in error.message


def test_a_merge_past_the_metadata_limit_fails_and_leaves_the_lead(db_session: Session) -> None:
    from worker.ingest.metadata_cap import MAX_METADATA_BYTES

    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, lead_metadata={"notes": "x" * (MAX_METADATA_BYTES - 100)})
    grown = _process(db_session, tenant, {"phone_number": lead.phone_number, "more": "y" * 200})
    assert grown.status == EventStatus.failed
    assert [error["field"] for error in grown.errors] == ["metadata"]
    # Replacing a key counts the merged size, not the sum.
    replaced = _process(db_session, tenant, {"phone_number": lead.phone_number, "notes": "short"})
    assert replaced.action == EventAction.updated


def _process(
    session: Session,
    tenant: Tenant,
    payload: dict[str, object],
    endpoint: Endpoint = Endpoint.upsert,
) -> IngestionEvent:
    """Store, claim and process one event in the test's transaction; the event as recorded."""
    event = _event(session, tenant, json.dumps(payload).encode())
    event.endpoint = endpoint
    session.flush()
    claim = claim_event(session, event.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    assert process_claim(session, claim, prepare_claim(claim)) is not None
    session.expire_all()
    recorded = session.get(IngestionEvent, event.id)
    assert recorded is not None
    return recorded


def test_an_external_id_held_by_another_lead_fails_on_that_field(db_session: Session) -> None:
    # Without external_id among the match keys the payload matches by phone, yet its external
    # id belongs to another lead: no retry can cure that, so it fails at once, naming the holder.
    tenant = make_tenant(db_session, match=["phone_number"])
    holder = make_lead(db_session, tenant, phone_number="+12025550101", external_id="CRM-1")
    target = make_lead(db_session, tenant, phone_number="+12025550199")
    event = _process(db_session, tenant, {"phone_number": "+12025550199", "external_id": "CRM-1"})
    assert event.status == EventStatus.failed
    assert [error["field"] for error in event.errors] == ["external_id"]
    assert f"lead {holder.id}" in event.errors[0]["message"]
    db_session.refresh(target)
    assert target.external_id is None


def test_an_upsert_creating_a_lead_with_a_held_external_id_fails_on_that_field(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session, match=["email"])
    holder = make_lead(db_session, tenant, phone_number="+12025550101", external_id="CRM-2")
    event = _process(
        db_session,
        tenant,
        {"phone_number": "+12025550177", "email": "new@example.com", "external_id": "CRM-2"},
    )
    assert event.status == EventStatus.failed
    assert event.errors == [
        {"field": "external_id", "message": event.errors[0]["message"]},
    ]
    assert f"lead {holder.id}" in event.errors[0]["message"]
    assert "CRM-2" not in event.errors[0]["message"].replace(f"lead {holder.id}", "")


def test_config_reengagement_default_does_not_apply_to_upserts(db_session: Session) -> None:
    tenant = make_tenant(db_session, min_reengagement_days=30)
    lead = make_lead(db_session, tenant, phone_number="+12025550101", received_time=days_ago(40))
    event = _process(
        db_session,
        tenant,
        {"phone_number": "+12025550101", "status": "CANCELLED", "call_dnc": True},
    )
    assert (event.status, event.action) == (EventStatus.done, EventAction.updated)
    db_session.refresh(lead)
    assert lead.status == LeadStatus.CANCELLED and lead.status_reason == StatusReason.WEBHOOK
    assert lead.call_dnc is True and lead.reengagements_count == 0


def test_config_reengagement_default_applies_to_the_create_endpoint(db_session: Session) -> None:
    tenant = make_tenant(db_session, min_reengagement_days=30)
    lead = make_lead(db_session, tenant, phone_number="+12025550101", received_time=days_ago(40))
    event = _process(db_session, tenant, {"phone_number": "+12025550101"}, Endpoint.create)
    assert event.action == EventAction.reengaged
    db_session.refresh(lead)
    assert lead.reengagements_count == 1 and lead.status_reason == StatusReason.REENGAGEMENT


def test_an_upsert_reengages_only_with_its_own_days_and_keeps_a_stated_status(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(
        db_session,
        tenant,
        phone_number="+12025550101",
        status=LeadStatus.LOST,
        received_time=days_ago(40),
    )
    event = _process(
        db_session,
        tenant,
        {"phone_number": "+12025550101", "status": "CANCELLED", "min_reengagement_days": 30},
    )
    assert event.action == EventAction.reengaged
    db_session.refresh(lead)
    assert lead.reengagements_count == 1
    # The payload said CANCELLED: a reengagement's NEW never overwrites a stated status.
    assert lead.status == LeadStatus.CANCELLED


@pytest.mark.parametrize("endpoint", [Endpoint.create, Endpoint.upsert])
def test_a_created_lead_is_new_whatever_status_the_payload_gives(
    db_session: Session, endpoint: Endpoint
) -> None:
    tenant = make_tenant(db_session)
    event = _process(
        db_session,
        tenant,
        {"phone_number": "+12025550101", "status": "CLOSED", "status_reason": "MANUAL"},
        endpoint,
    )
    assert event.action == EventAction.created
    lead = db_session.get(Lead, event.lead_id)
    assert lead is not None
    assert (lead.status, lead.status_reason) == (LeadStatus.NEW, StatusReason.WEBHOOK)
    assert [warning.get("field") for warning in event.warnings] == ["status", "status_reason"]
    assert "CLOSED" in event.warnings[0]["reason"]


def test_a_providers_metadata_timezone_survives_a_later_payload(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    first = _process(
        db_session,
        tenant,
        {"phone_number": "+12127365000", "metadata": {"timezone": "Europe/Paris"}},
    )
    assert first.action == EventAction.created
    again = _process(db_session, tenant, {"phone_number": "+12127365000"})
    assert again.action == EventAction.unchanged
    lead = db_session.get(Lead, first.lead_id)
    assert lead is not None
    assert lead.timezone == "America/New_York"
    assert lead.lead_metadata["timezone"] == "Europe/Paris"


def _hiding_external_id(monkeypatch: pytest.MonkeyPatch, external_id: str, times: int) -> list[int]:
    """Make the first ``times`` loads miss the lead holding ``external_id``, as if a writer
    outside the locks committed it just after the load; the number of loads so far."""
    import worker.ingest.pipeline as pipeline
    from worker.ingest.matching import LeadsInPlay, load_leads

    calls: list[int] = []

    def load(session: Session, organization_id: int, payloads: Any) -> LeadsInPlay:
        found = load_leads(session, organization_id, payloads)
        calls.append(1)
        if len(calls) > times:
            return found
        return LeadsInPlay(lead for lead in found if lead.external_id != external_id)

    monkeypatch.setattr(pipeline, "load_leads", load)
    return calls


def test_a_unique_violation_is_decided_again_once_then_judged(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(db_session)
    holder = make_lead(db_session, tenant, phone_number="+12025550101", external_id="RACE")
    loads = _hiding_external_id(monkeypatch, "RACE", times=1)
    event = _process(db_session, tenant, {"phone_number": "+12025550177", "external_id": "RACE"})
    assert len(loads) == 2
    # Seen the second time, the holder is matched by its external id.
    assert (event.status, event.action, event.lead_id) == (
        EventStatus.done,
        EventAction.updated,
        holder.id,
    )


def test_a_second_unique_violation_is_left_to_the_retry(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(db_session)
    make_lead(db_session, tenant, phone_number="+12025550101", external_id="RACE")
    _hiding_external_id(monkeypatch, "RACE", times=2)
    event = _event(db_session, tenant, b'{"phone_number": "+12025550177", "external_id": "RACE"}')
    claim = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    with pytest.raises(IntegrityError):
        process_claim(db_session, claim, prepare_claim(claim))


def test_an_event_keeps_its_parsed_payload_and_mapping_version(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    config.mapping_version = 4
    event = make_event(
        db_session, tenant, b'{"phone_number": "2024561111"}', query_string="lead_source=fb"
    )
    claim = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    process_claim(db_session, claim, prepare_claim(claim))
    db_session.expire_all()
    done = db_session.get(IngestionEvent, event.id)
    assert done is not None and done.status == EventStatus.done
    assert done.payload == {"phone_number": "2024561111", "lead_source": "fb"}
    assert done.mapping_version == 4


@pytest.mark.parametrize(
    "body",
    [
        b'{"phone_number": "2024561111", "note": "a\\u0000b"}',
        b'{"x": "\\ud800"}',
        b'{"phone_number": "2024561111", "x": 1e400}',
    ],
)
def test_a_payload_jsonb_cannot_hold_is_processed_without_its_copy(
    db_session: Session, body: bytes
) -> None:
    tenant = make_tenant(db_session)
    event = make_event(db_session, tenant, body)
    claim = claim_event(db_session, event.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    outcome = process_claim(db_session, claim, prepare_claim(claim))
    assert outcome is not None
    db_session.expire_all()
    stored = db_session.get(IngestionEvent, event.id)
    assert stored is not None and stored.status == outcome.status and stored.payload is None


def test_a_failed_attempt_keeps_the_payload_findable(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    event = _event(db_session, tenant)
    claim = claim_event(db_session, event.id, lease_seconds=60, max_attempts=1)
    assert claim is not None
    payload = searchable_payload(claim)
    status = record_transient_error(db_session, event.id, 1, "gone", 1, 1.0, payload)
    assert status == EventStatus.dead
    db_session.expire_all()
    dead = db_session.get(IngestionEvent, event.id)
    assert dead is not None and dead.payload == {"phone_number": "2024561111"}
