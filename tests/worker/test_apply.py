"""Applying payloads: update rules, sticky DNC, stale fill, reengagement, timezone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models import IngestionConfig
from models.enums import LeadStatus, StatusReason
from tests.support.factories import make_tenant
from tests.support.leads import days_ago, make_lead
from worker.ingest.apply import (
    apply_reengagement,
    apply_update,
    create_lead,
    is_reengagement_due,
    reengagement_days,
)
from worker.ingest.types import PreparedLead


def test_create_routes_to_config_campaign_with_defaults(db_session: Session) -> None:
    tenant = make_tenant(db_session, lead_type=7)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    prepared = PreparedLead(
        values={"phone_number": "+14155552671", "us_state": "CA"},
        defaults={"lead_source": "fallback", "call_dnc": False},
        metadata={"first_name": "Jane"},
    )
    received = dt.datetime(2026, 11, 2, 14, 5, tzinfo=dt.UTC)
    lead = create_lead(config, prepared, received, event_seq=5)
    assert lead.campaign_id == tenant.campaign_id
    assert lead.lead_type == 7
    assert lead.status == LeadStatus.NEW and lead.status_reason == StatusReason.WEBHOOK
    assert lead.lead_source == "fallback"
    assert lead.timezone == "America/Los_Angeles"
    assert lead.lead_metadata == {"first_name": "Jane", "timezone": "America/Los_Angeles"}
    assert lead.received_time == received
    assert lead.last_event_seq == 5


def test_payload_timezone_in_metadata_is_kept(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    prepared = PreparedLead(
        values={"phone_number": "+12127365000"}, metadata={"timezone": "Europe/Paris"}
    )
    lead = create_lead(config, prepared, days_ago(0), event_seq=1)
    assert lead.timezone == "America/New_York"
    assert lead.lead_metadata["timezone"] == "Europe/Paris"


def test_absent_fields_are_kept_and_metadata_merges(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, email="old@example.com", lead_metadata={"a": 1, "b": 2})
    before = lead.modified_time
    changed = apply_update(
        lead, PreparedLead(values={"lead_source": "X"}, metadata={"b": 3}), 10, stale=False
    )
    assert changed
    assert lead.email == "old@example.com"
    assert lead.lead_metadata["a"] == 1 and lead.lead_metadata["b"] == 3
    assert lead.modified_time > before
    assert lead.last_event_seq == 10


def test_dnc_is_sticky(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, call_dnc=True, sms_dnc=False)
    apply_update(lead, PreparedLead(values={"call_dnc": False, "sms_dnc": True}), 2, stale=False)
    assert lead.call_dnc is True and lead.sms_dnc is True


def test_nothing_changed_leaves_modified_time(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, email="a@example.com", lead_metadata={"k": "v"})
    lead.timezone = "America/Los_Angeles"
    lead.lead_metadata = {"k": "v", "timezone": "America/Los_Angeles"}
    before = lead.modified_time
    changed = apply_update(
        lead, PreparedLead(values={"email": "a@example.com"}, metadata={"k": "v"}), 3, stale=False
    )
    assert not changed
    assert lead.modified_time == before
    assert lead.last_event_seq == 3


def test_status_change_records_webhook_reason(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, status=LeadStatus.NEW, status_reason=StatusReason.MANUAL)
    apply_update(lead, PreparedLead(values={"status": LeadStatus.CLOSED}), 2, stale=False)
    assert lead.status == LeadStatus.CLOSED and lead.status_reason == StatusReason.WEBHOOK


def test_stale_event_only_fills_empty_fields(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(
        db_session, tenant, email="new@example.com", lead_source=None, last_event_seq=9
    )
    lead.lead_metadata = {"plan": "new"}
    prepared = PreparedLead(
        values={"email": "old@example.com", "lead_source": "Old"},
        metadata={"plan": "old", "extra": 1},
    )
    apply_update(lead, prepared, 4, stale=True)
    assert lead.email == "new@example.com"
    assert lead.lead_source == "Old"
    assert lead.lead_metadata["plan"] == "new" and lead.lead_metadata["extra"] == 1
    assert lead.last_event_seq == 9


def test_reengagement_due_counts_from_last_reengagement(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, received_time=days_ago(40))
    now = days_ago(0)
    assert is_reengagement_due(lead, 30, now)
    assert not is_reengagement_due(lead, 50, now)
    assert not is_reengagement_due(lead, None, now)
    lead.last_reengagement_time = days_ago(10)
    assert not is_reengagement_due(lead, 30, now)
    assert is_reengagement_due(lead, 0, now)


def test_reengagement_resets_status_and_counts_once(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, status=LeadStatus.LOST, received_time=days_ago(40))
    received = days_ago(0)
    apply_reengagement(lead, PreparedLead(metadata={"first_name": "Leland"}), received, 8)
    assert lead.reengagements_count == 1
    assert lead.status == LeadStatus.NEW and lead.status_reason == StatusReason.REENGAGEMENT
    assert lead.last_reengagement_time == received == lead.received_time
    assert lead.lead_metadata["first_name"] == "Leland"


def test_reengagement_days_payload_overrides_config(db_session: Session) -> None:
    tenant = make_tenant(db_session, min_reengagement_days=30)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    assert reengagement_days(PreparedLead(), config) == 30
    assert reengagement_days(PreparedLead(min_reengagement_days=0), config) == 0


def test_metadata_defaults_apply_on_create_under_payload_values(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    prepared = PreparedLead(
        values={"phone_number": "+14155552671"},
        defaults={"metadata": {"tier": "basic", "source": "default"}},
        metadata={"source": "payload"},
    )
    lead = create_lead(config, prepared, days_ago(0), event_seq=1)
    assert lead.lead_metadata["tier"] == "basic"
    assert lead.lead_metadata["source"] == "payload"
