"""A lead as JSON with Sela's field names: what ``GET /api/leads/{id}/`` answers and what a
lead webhook sends, defined once for both."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from models import Lead


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with offset, or None."""
    return value.isoformat() if value is not None else None


def enum_value(value: enum.Enum | None) -> Any:
    """An enum's value, or None."""
    return value.value if value is not None else None


def lead_json(lead: Lead) -> dict[str, Any]:
    """A lead as the API returns it."""
    return {
        "id": lead.id,
        "phone_number": lead.phone_number,
        "email": lead.email,
        "external_id": lead.external_id,
        "us_state": lead.us_state,
        "lead_source": lead.lead_source,
        "metadata": lead.lead_metadata or {},
        "status": enum_value(lead.status),
        "status_outcome": enum_value(lead.status_outcome),
        "status_reason": enum_value(lead.status_reason),
        "campaign": lead.campaign_id,
        "representative": lead.representative_id,
        "lead_type": lead.lead_type,
        "sms_dnc": lead.sms_dnc,
        "call_dnc": lead.call_dnc,
        "created_time": iso(lead.created_time),
        "modified_time": iso(lead.modified_time),
        "received_time": iso(lead.received_time),
        "reengagements_count": lead.reengagements_count,
        "last_reengagement_time": iso(lead.last_reengagement_time),
        "next_call_time": iso(lead.next_call_time),
        "next_call_time_reason": lead.next_call_time_reason,
        "call_schedule_start_time": iso(lead.call_schedule_start_time),
        "timezone": lead.timezone,
        "is_test": bool(lead.is_test),
    }
