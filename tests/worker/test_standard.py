"""The standard API's rules in the decision: PUT finds by phone and email, PATCH by id and may
clear DNC, read-only fields are dropped."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import IngestionConfig, Lead
from models.enums import Endpoint, EventAction, LeadStatus, StatusReason
from tests.support.factories import make_tenant
from tests.support.leads import days_ago
from worker.ingest.decision import Decision, EventOrder, decide
from worker.ingest.matching import LeadsInPlay
from worker.ingest.standard import NO_MATCH, without_read_only
from worker.ingest.types import PreparedLead

PHONE = "+12025550101"


def _setup(session: Session, **fields: Any) -> tuple[IngestionConfig, Lead]:
    tenant = make_tenant(session)
    config = IngestionConfig(
        organization_id=tenant.organization_id, name="standard", mapping={}, standard_api=True
    )
    session.add(config)
    lead = Lead(
        organization_id=tenant.organization_id,
        campaign_id=tenant.campaign_id,
        phone_number=PHONE,
        status=LeadStatus.NEW,
        received_time=days_ago(1),
        last_event_seq=1,
        # Stored as ingestion stores it: with the zone its phone number gives.
        timezone="America/New_York",
        lead_metadata={"timezone": "America/New_York"},
        **fields,
    )
    session.add(lead)
    session.flush()
    return config, lead


def _decide(
    config: IngestionConfig,
    lead: Lead,
    values: dict[str, Any],
    endpoint: Endpoint,
    target: int | None = None,
) -> Decision:
    order = EventOrder(days_ago(0))
    return decide(
        PreparedLead(values=values), LeadsInPlay([lead]), config, endpoint, order, None, target
    )


def test_update_finds_the_lead_by_phone_and_email(db_session: Session) -> None:
    config, lead = _setup(db_session, email="a@example.com")
    decision = _decide(
        config,
        lead,
        {"phone_number": PHONE, "email": "a@example.com", "lead_source": "CRM"},
        Endpoint.leads_update,
    )
    assert decision.action == EventAction.updated and decision.lead is lead
    assert decision.values == {"lead_source": "CRM"}


def test_update_with_another_email_is_no_match(db_session: Session) -> None:
    config, lead = _setup(db_session, email="a@example.com")
    decision = _decide(config, lead, {"phone_number": PHONE}, Endpoint.leads_update)
    assert decision.failed and decision.reason == NO_MATCH
    assert [error.field for error in decision.errors] == ["phone_number"]


def test_update_needs_a_phone_number(db_session: Session) -> None:
    config, lead = _setup(db_session)
    decision = _decide(config, lead, {"email": "a@example.com"}, Endpoint.leads_update)
    assert decision.failed and decision.reason is None
    assert [error.field for error in decision.errors] == ["phone_number"]


def test_update_never_overwrites_another_external_id(db_session: Session) -> None:
    config, lead = _setup(db_session, external_id="crm-1")
    decision = _decide(
        config, lead, {"phone_number": PHONE, "external_id": "crm-2"}, Endpoint.leads_update
    )
    assert decision.failed
    assert [error.field for error in decision.errors] == ["external_id"]


def test_update_fills_a_missing_external_id(db_session: Session) -> None:
    config, lead = _setup(db_session)
    decision = _decide(
        config, lead, {"phone_number": PHONE, "external_id": "crm-2"}, Endpoint.leads_update
    )
    assert decision.action == EventAction.updated
    assert decision.values == {"external_id": "crm-2"}


def test_patch_clears_dnc_and_says_so(db_session: Session) -> None:
    config, lead = _setup(db_session, call_dnc=True)
    decision = _decide(config, lead, {"call_dnc": False}, Endpoint.leads_patch, lead.id)
    assert decision.action == EventAction.updated
    assert decision.values == {"call_dnc": False}
    assert {"field": "call_dnc", "reason": "call_dnc cleared through the owner's API"} in (
        decision.warnings
    )


def test_ingestion_still_never_clears_dnc(db_session: Session) -> None:
    config, lead = _setup(db_session, call_dnc=True)
    decision = _decide(config, lead, {"phone_number": PHONE, "call_dnc": False}, Endpoint.upsert)
    assert decision.action == EventAction.unchanged


def test_patch_sets_status_and_reason(db_session: Session) -> None:
    config, lead = _setup(db_session)
    decision = _decide(
        config,
        lead,
        {"status": LeadStatus.CLOSED, "status_reason": StatusReason.MANUAL},
        Endpoint.leads_patch,
        lead.id,
    )
    assert decision.values == {"status": LeadStatus.CLOSED, "status_reason": StatusReason.MANUAL}


def test_patch_of_a_lead_not_in_play_is_no_match(db_session: Session) -> None:
    config, lead = _setup(db_session)
    decision = _decide(config, lead, {"call_dnc": True}, Endpoint.leads_patch, lead.id + 1000)
    assert decision.failed and decision.reason == NO_MATCH
    assert [error.field for error in decision.errors] == ["id"]


def test_read_only_fields_are_dropped_with_a_warning() -> None:
    kept, warnings = without_read_only({"campaign": 9, "id": 3, "phone_number": PHONE})
    assert kept == {"phone_number": PHONE}
    assert sorted(warning["field"] for warning in warnings) == ["campaign", "id"]
