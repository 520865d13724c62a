"""The JSON shapes of leads and ingestion events (Sela's field names)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask import url_for

from models import IngestionEvent, Lead


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with offset, or None."""
    return value.isoformat() if value is not None else None


def _enum_value(value: enum.Enum | None) -> Any:
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
        "status": _enum_value(lead.status),
        "status_outcome": _enum_value(lead.status_outcome),
        "status_reason": _enum_value(lead.status_reason),
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
    }


def event_status_url(event_id: object) -> str:
    """The URL where an event's state can be read."""
    return url_for("events.get_event", event_id=str(event_id))


def event_json(event: IngestionEvent) -> dict[str, Any]:
    """An ingestion event as the API returns it (the raw body is not included)."""
    return {
        "id": str(event.id),
        "config": str(event.config_id),
        "endpoint": _enum_value(event.endpoint),
        "status": _enum_value(event.status),
        "action": _enum_value(event.action),
        "lead_id": event.lead_id,
        "matched_by": event.matched_by,
        "errors": event.errors or [],
        "warnings": event.warnings or [],
        "attempts": event.attempts,
        "received_time": iso(event.received_time),
        "processed_time": iso(event.processed_time),
        "next_attempt_time": iso(event.next_attempt_time),
        "last_error": event.last_error,
        "idempotency_key": event.idempotency_key,
        "mapping_version": event.mapping_version,
    }


def errors_by_field(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    """``[{"field": f, "message": m}]`` → ``{f: [m, ...]}`` for a 422 answer."""
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.get("field", "body"), []).append(error.get("message", ""))
    return grouped
