"""The field rules: create values, update rules, sticky DNC, stale fill, reengagement, timezone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import IngestionConfig, Lead
from models.enums import LeadStatus, StatusReason
from tests.support.factories import make_tenant
from tests.support.leads import days_ago, make_lead
from worker.ingest.apply import (
    build_lead,
    changed_values,
    is_reengagement_due,
    lead_values,
    merged_values,
    new_lead_values,
    reengaged_values,
    write_values,
)
from worker.ingest.types import PreparedLead


def _config(session: Session, **options: Any) -> IngestionConfig:
    tenant = make_tenant(session, **options)
    config = session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    return config


def test_create_routes_to_config_campaign_with_defaults(db_session: Session) -> None:
    config = _config(db_session, lead_type=7)
    prepared = PreparedLead(
        values={"phone_number": "+14155552671", "us_state": "CA"},
        defaults={"lead_source": "fallback", "call_dnc": False},
        metadata={"first_name": "Jane"},
    )
    received = dt.datetime(2026, 11, 2, 14, 5, tzinfo=dt.UTC)
    values, warnings = new_lead_values(config, prepared, received)
    lead = build_lead(config.organization_id, values, event_seq=5)
    assert warnings == []
    assert lead.campaign_id == config.campaign_id
    assert lead.lead_type == 7
    assert lead.status == LeadStatus.NEW and lead.status_reason == StatusReason.WEBHOOK
    assert lead.lead_source == "fallback"
    assert lead.timezone == "America/Los_Angeles"
    assert lead.lead_metadata == {"first_name": "Jane", "timezone": "America/Los_Angeles"}
    assert lead.received_time == received
    assert lead.last_event_seq == 5


@pytest.mark.parametrize(
    ("given", "ignored"),
    [
        ({"status": LeadStatus.CLOSED}, ["status"]),
        ({"status_reason": StatusReason.MANUAL}, ["status_reason"]),
        ({"status": LeadStatus.NEW, "status_reason": StatusReason.WEBHOOK}, []),
    ],
)
def test_create_ignores_a_payload_status_with_a_warning(
    db_session: Session, given: dict[str, object], ignored: list[str]
) -> None:
    config = _config(db_session)
    prepared = PreparedLead(values={"phone_number": "+14155552671", **given})
    values, warnings = new_lead_values(config, prepared, days_ago(0))
    assert (values["status"], values["status_reason"]) == (LeadStatus.NEW, StatusReason.WEBHOOK)
    assert [warning["field"] for warning in warnings] == ignored


def test_payload_timezone_in_metadata_is_kept(db_session: Session) -> None:
    config = _config(db_session)
    prepared = PreparedLead(
        values={"phone_number": "+12127365000"}, metadata={"timezone": "Europe/Paris"}
    )
    values, _ = new_lead_values(config, prepared, days_ago(0))
    assert values["timezone"] == "America/New_York"
    assert values["lead_metadata"]["timezone"] == "Europe/Paris"


def test_derived_timezone_never_replaces_one_the_lead_has(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(
        db_session,
        tenant,
        phone_number="+12127365000",
        timezone="America/New_York",
        lead_metadata={"timezone": "Europe/Paris"},
    )
    current = lead_values(lead)
    after = merged_values(current, PreparedLead(values={"lead_source": "X"}), fill_only=False)
    assert after["lead_metadata"]["timezone"] == "Europe/Paris"
    assert changed_values(current, after) == {"lead_source": "X"}


def test_derived_timezone_fills_metadata_without_one(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, phone_number="+12127365000", lead_metadata={"a": 1})
    after = merged_values(lead_values(lead), PreparedLead(), fill_only=False)
    assert after["lead_metadata"] == {"a": 1, "timezone": "America/New_York"}


def test_absent_fields_are_kept_and_metadata_merges(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, email="old@example.com", lead_metadata={"a": 1, "b": 2})
    current = lead_values(lead)
    after = merged_values(
        current, PreparedLead(values={"lead_source": "X"}, metadata={"b": 3}), fill_only=False
    )
    assert after["email"] == "old@example.com"
    assert after["lead_metadata"]["a"] == 1 and after["lead_metadata"]["b"] == 3


def test_dnc_is_sticky(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, call_dnc=True, sms_dnc=False)
    prepared = PreparedLead(values={"call_dnc": False, "sms_dnc": True})
    after = merged_values(lead_values(lead), prepared, fill_only=False)
    assert after["call_dnc"] is True and after["sms_dnc"] is True


def test_writing_changes_moves_modified_time_only_when_something_changed(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    lead: Lead = make_lead(db_session, tenant, email="a@example.com", last_event_seq=1)
    before = lead.modified_time
    write_values(lead, {}, event_seq=3)
    assert lead.modified_time == before and lead.last_event_seq == 3
    write_values(lead, {"email": "b@example.com"}, event_seq=None)
    assert lead.modified_time > before and lead.email == "b@example.com"
    assert lead.last_event_seq == 3


def test_status_change_records_webhook_reason(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, status=LeadStatus.NEW, status_reason=StatusReason.MANUAL)
    prepared = PreparedLead(values={"status": LeadStatus.CLOSED})
    after = merged_values(lead_values(lead), prepared, fill_only=False)
    assert after["status"] == LeadStatus.CLOSED and after["status_reason"] == StatusReason.WEBHOOK


def test_stale_event_only_fills_empty_fields(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(
        db_session, tenant, email="new@example.com", lead_source=None, lead_metadata={"plan": "new"}
    )
    prepared = PreparedLead(
        values={"email": "old@example.com", "lead_source": "Old"},
        metadata={"plan": "old", "extra": 1},
    )
    after = merged_values(lead_values(lead), prepared, fill_only=True)
    assert after["email"] == "new@example.com"
    assert after["lead_source"] == "Old"
    assert after["lead_metadata"]["plan"] == "new" and after["lead_metadata"]["extra"] == 1


def test_reengagement_due_counts_from_last_reengagement(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, received_time=days_ago(40))
    now = days_ago(0)
    assert is_reengagement_due(lead_values(lead), 30, now)
    assert not is_reengagement_due(lead_values(lead), 50, now)
    assert not is_reengagement_due(lead_values(lead), None, now)
    lead.last_reengagement_time = days_ago(10)
    assert not is_reengagement_due(lead_values(lead), 30, now)
    assert is_reengagement_due(lead_values(lead), 0, now)


def test_reengagement_resets_status_and_counts_once(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, status=LeadStatus.LOST, received_time=days_ago(40))
    received = days_ago(0)
    after = reengaged_values(
        lead_values(lead), PreparedLead(metadata={"first_name": "Leland"}), received
    )
    assert after["reengagements_count"] == 1
    assert after["status"] == LeadStatus.NEW and after["status_reason"] == StatusReason.REENGAGEMENT
    assert after["last_reengagement_time"] == received == after["received_time"]
    assert after["lead_metadata"]["first_name"] == "Leland"


def test_reengagement_keeps_a_status_the_payload_states(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, status=LeadStatus.LOST, received_time=days_ago(40))
    prepared = PreparedLead(values={"status": LeadStatus.CANCELLED})
    after = reengaged_values(lead_values(lead), prepared, days_ago(0))
    assert after["reengagements_count"] == 1
    assert (
        after["status"] == LeadStatus.CANCELLED and after["status_reason"] == StatusReason.WEBHOOK
    )


def test_metadata_defaults_apply_on_create_under_payload_values(db_session: Session) -> None:
    config = _config(db_session)
    prepared = PreparedLead(
        values={"phone_number": "+14155552671"},
        defaults={"metadata": {"tier": "basic", "source": "default"}},
        metadata={"source": "payload"},
    )
    values, _ = new_lead_values(config, prepared, days_ago(0))
    assert values["lead_metadata"]["tier"] == "basic"
    assert values["lead_metadata"]["source"] == "payload"
