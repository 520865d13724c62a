"""The one decision: action, lead and writes for a payload, with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import IngestionConfig, Lead
from models.enums import Endpoint, EventAction, LeadStatus
from tests.support.factories import make_tenant
from tests.support.leads import days_ago
from worker.ingest.apply import lead_values
from worker.ingest.decision import Decision, EventOrder, decide, reengagement_days
from worker.ingest.matching import LeadsInPlay
from worker.ingest.metadata_cap import MAX_METADATA_BYTES
from worker.ingest.types import FieldError, PreparedLead

PHONE = "+12025550101"
ZONE = "America/New_York"


def _config(session: Session, **options: Any) -> IngestionConfig:
    tenant = make_tenant(session, **options)
    config = session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    return config


def _lead(session: Session, config: IngestionConfig, **fields: Any) -> Lead:
    lead = Lead(
        organization_id=config.organization_id,
        campaign_id=config.campaign_id,
        phone_number=fields.pop("phone_number", PHONE),
        status=fields.pop("status", LeadStatus.NEW),
        # Stored as ingestion stores it: with the zone its phone number gives.
        timezone=fields.pop("timezone", ZONE),
        lead_metadata=fields.pop("lead_metadata", {"timezone": ZONE}),
        received_time=fields.pop("received_time", days_ago(1)),
        last_event_seq=fields.pop("last_event_seq", 1),
        **fields,
    )
    session.add(lead)
    session.flush()
    return lead


def _decide(
    config: IngestionConfig,
    leads: list[Lead],
    values: dict[str, Any],
    endpoint: Endpoint = Endpoint.upsert,
    seq: int | None = None,
    **prepared: Any,
) -> Decision:
    payload = PreparedLead(values=values, **prepared)
    order = EventOrder(days_ago(0), seq)
    return decide(payload, LeadsInPlay(leads), config, endpoint, order)


def test_the_decision_writes_nothing(db_session: Session) -> None:
    config = _config(db_session)
    lead = _lead(db_session, config)
    before = lead_values(lead)
    decision = _decide(config, [lead], {"phone_number": PHONE, "lead_source": "X"})
    assert decision.action == EventAction.updated and decision.values == {"lead_source": "X"}
    assert lead_values(lead) == before
    assert lead not in db_session.dirty
    assert decision.stored_values()["lead_source"] == "X"


def test_a_new_phone_creates_with_the_create_values(db_session: Session) -> None:
    config = _config(db_session, lead_type=3)
    decision = _decide(config, [], {"phone_number": PHONE}, defaults={"lead_source": "d"})
    assert decision.action == EventAction.created and decision.lead is None
    assert decision.values["lead_type"] == 3 and decision.values["lead_source"] == "d"


def test_no_phone_cannot_create(db_session: Session) -> None:
    config = _config(db_session)
    decision = _decide(config, [], {"email": "a@example.com"})
    assert decision.failed
    assert [error.field for error in decision.errors] == ["phone_number"]


def test_payload_errors_fail_with_the_payloads_warnings(db_session: Session) -> None:
    config = _config(db_session)
    note = {"reason": "read as JSON"}
    decision = _decide(config, [], {}, errors=[FieldError("email", "bad")], warnings=[note])
    assert decision.failed and decision.warnings == [note]


@pytest.mark.parametrize(
    ("endpoint", "payload_days", "expected"),
    [
        (Endpoint.create, None, 30),
        (Endpoint.create, 5, 5),
        (Endpoint.upsert, None, None),
        (Endpoint.upsert, 5, 5),
    ],
)
def test_reengagement_days_by_endpoint(
    db_session: Session, endpoint: Endpoint, payload_days: int | None, expected: int | None
) -> None:
    config = _config(db_session, min_reengagement_days=30)
    prepared = PreparedLead(min_reengagement_days=payload_days)
    assert reengagement_days(prepared, config, endpoint) == expected


@pytest.mark.parametrize(
    ("endpoint", "days", "age", "action"),
    [
        (Endpoint.create, None, 40, EventAction.duplicate),
        (Endpoint.create, 30, 40, EventAction.reengaged),
        (Endpoint.create, 30, 10, EventAction.duplicate),
        (Endpoint.upsert, None, 40, EventAction.unchanged),
        (Endpoint.upsert, 30, 40, EventAction.reengaged),
    ],
)
def test_duplicate_reengaged_or_unchanged(
    db_session: Session, endpoint: Endpoint, days: int | None, age: int, action: EventAction
) -> None:
    config = _config(db_session)
    lead = _lead(db_session, config, received_time=days_ago(age))
    decision = _decide(
        config, [lead], {"phone_number": PHONE}, endpoint, min_reengagement_days=days
    )
    assert (decision.action, decision.lead) == (action, lead)
    if action == EventAction.duplicate:
        assert decision.values == {}


def test_an_older_event_is_stale_and_only_fills(db_session: Session) -> None:
    config = _config(db_session)
    lead = _lead(db_session, config, email="new@example.com", last_event_seq=9)
    values = {"phone_number": PHONE, "email": "old@example.com", "lead_source": "S"}
    decision = _decide(config, [lead], values, seq=4)
    assert decision.action == EventAction.stale
    assert decision.values == {"lead_source": "S"}
    # The dry run asks as the newest event: never stale.
    assert _decide(config, [lead], values).action == EventAction.updated


def test_a_held_external_id_fails_naming_the_holder(db_session: Session) -> None:
    config = _config(db_session, match=["phone_number"])
    holder = _lead(db_session, config, phone_number="+12025550102", external_id="X")
    target = _lead(db_session, config)
    decision = _decide(config, [holder, target], {"phone_number": PHONE, "external_id": "X"})
    assert decision.failed and decision.lead is None
    assert [error.field for error in decision.errors] == ["external_id"]
    assert f"lead {holder.id}" in decision.errors[0].message


def test_the_matched_leads_own_external_id_is_no_conflict(db_session: Session) -> None:
    config = _config(db_session)
    lead = _lead(db_session, config, external_id="X")
    decision = _decide(config, [lead], {"phone_number": PHONE, "external_id": "X"})
    assert decision.action == EventAction.unchanged


def test_metadata_past_the_cap_fails_only_when_written(db_session: Session) -> None:
    config = _config(db_session)
    big = {"notes": "x" * (MAX_METADATA_BYTES - 50), "timezone": ZONE}
    lead = _lead(db_session, config, lead_metadata=big)
    grown = _decide(config, [lead], {"phone_number": PHONE}, metadata={"more": "y" * 100})
    assert grown.failed and [error.field for error in grown.errors] == ["metadata"]
    # A duplicate writes nothing, so the cap has nothing to refuse.
    duplicate = _decide(
        config, [lead], {"phone_number": PHONE}, Endpoint.create, metadata={"more": "y" * 100}
    )
    assert duplicate.action == EventAction.duplicate
