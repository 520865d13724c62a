"""Applying a prepared payload to a lead: create, update, stale fill, reengagement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models import IngestionConfig, Lead
from models.base import utcnow
from models.enums import LeadStatus, StatusReason
from worker.ingest.timezones import timezone_for
from worker.ingest.types import PreparedLead

# JSON field name → model attribute, where they differ.
_ATTRIBUTE = {"representative": "representative_id"}
_STICKY_FLAGS = ("sms_dnc", "call_dnc")


def _attribute(field_name: str) -> str:
    return _ATTRIBUTE.get(field_name, field_name)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def create_lead(
    config: IngestionConfig, prepared: PreparedLead, received_time: dt.datetime, event_seq: int
) -> Lead:
    """A new lead in the config's campaign, status NEW, status_reason WEBHOOK."""
    defaults = dict(prepared.defaults)
    # Defaults of metadata.KEY rules arrive as one object; the payload's own keys win over them.
    metadata_defaults = defaults.pop("metadata", None) or {}
    values = {**defaults, **prepared.values}
    lead = Lead(
        organization_id=config.organization_id,
        campaign_id=config.campaign_id,
        lead_type=config.default_lead_type,
        status=LeadStatus.NEW,
        status_reason=StatusReason.WEBHOOK,
        sms_dnc=False,
        call_dnc=False,
        lead_metadata={},
        reengagements_count=0,
        received_time=received_time,
        last_event_seq=event_seq,
    )
    for field_name, value in values.items():
        setattr(lead, _attribute(field_name), value)
    lead.lead_metadata = {**metadata_defaults, **prepared.metadata}
    _refresh_timezone(lead, prepared)
    now = utcnow()
    lead.created_time = lead.modified_time = now
    return lead


def _refresh_timezone(lead: Lead, prepared: PreparedLead) -> None:
    zone = timezone_for(lead.us_state, lead.phone_number)
    if zone is not None:
        lead.timezone = zone
    # Copy the zone into metadata unless the payload gave one of its own.
    metadata = lead.lead_metadata or {}
    if (
        lead.timezone is not None
        and "timezone" not in prepared.metadata
        and metadata.get("timezone") != lead.timezone
    ):
        lead.lead_metadata = {**metadata, "timezone": lead.timezone}


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {
        column.key: getattr(lead, column.key)
        for column in Lead.__mapper__.column_attrs
        if column.key not in ("version", "last_event_seq", "modified_time")
    }


def merge_fields(lead: Lead, prepared: PreparedLead, fill_only: bool) -> None:
    """Write the payload's fields onto the lead by the update rules.

    Present fields overwrite (or, with ``fill_only``, only fill empty ones); DNC flags can be
    set but never cleared; metadata merges key by key; a status change by ingestion records
    WEBHOOK as its reason unless the payload names one.
    """
    old_status = lead.status
    for field_name, value in prepared.values.items():
        attribute = _attribute(field_name)
        current = getattr(lead, attribute)
        if field_name in _STICKY_FLAGS:
            if value is True:
                setattr(lead, attribute, True)
            continue
        if fill_only and not _is_empty(current):
            continue
        setattr(lead, attribute, value)
    if lead.status != old_status and "status_reason" not in prepared.values:
        lead.status_reason = StatusReason.WEBHOOK
    metadata = dict(lead.lead_metadata or {})
    for key, value in prepared.metadata.items():
        if fill_only and key in metadata:
            continue
        metadata[key] = value
    lead.lead_metadata = metadata
    _refresh_timezone(lead, prepared)


def apply_update(lead: Lead, prepared: PreparedLead, event_seq: int, stale: bool) -> bool:
    """Update a matched lead; True when anything visible changed."""
    before = _snapshot(lead)
    merge_fields(lead, prepared, fill_only=stale)
    changed = _snapshot(lead) != before
    if changed:
        lead.modified_time = utcnow()
    if not stale:
        lead.last_event_seq = max(lead.last_event_seq or 0, event_seq)
    return changed


def is_reengagement_due(lead: Lead, min_days: int | None, received_time: dt.datetime) -> bool:
    """True when at least ``min_days`` have passed since the lead's last (re)engagement."""
    if min_days is None:
        return False
    since = lead.last_reengagement_time or lead.received_time
    return received_time - since >= dt.timedelta(days=min_days)


def apply_reengagement(
    lead: Lead, prepared: PreparedLead, received_time: dt.datetime, event_seq: int
) -> None:
    """Count a reengagement, reset the lead to NEW and merge the payload as an update would."""
    merge_fields(lead, prepared, fill_only=False)
    lead.reengagements_count = (lead.reengagements_count or 0) + 1
    lead.last_reengagement_time = received_time
    lead.received_time = received_time
    lead.status = LeadStatus.NEW
    lead.status_reason = StatusReason.REENGAGEMENT
    lead.modified_time = utcnow()
    lead.last_event_seq = max(lead.last_event_seq or 0, event_seq)


def reengagement_days(prepared: PreparedLead, config: IngestionConfig) -> int | None:
    """``min_reengagement_days`` from the payload, else the config's default."""
    if prepared.min_reengagement_days is not None:
        return prepared.min_reengagement_days
    return config.min_reengagement_days
