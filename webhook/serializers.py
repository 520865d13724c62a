"""The JSON shapes of leads and ingestion events (Sela's field names)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import request, url_for

from models import IngestionEvent, LeadType

# One shape of a lead for the API and the lead webhooks (which the worker sends).
from worker.lead_payload import enum_value, iso, lead_json

__all__ = ["errors_by_field", "event_json", "event_status_url", "iso", "lead_json"]


def lead_type_json(lead_type: LeadType) -> dict[str, Any]:
    """A lead type as the API returns it (Sela's names, ``helpText`` included)."""
    return {
        "id": lead_type.id,
        "name": lead_type.name,
        "campaign": lead_type.campaign_id,
        "lead_metadata_fields": list(lead_type.lead_metadata_fields or []),
        "is_default": lead_type.is_default,
    }


def event_status_url(event_id: object) -> str:
    """The URL where an event's state can be read."""
    before, after = _status_url_around_id(request.script_root)
    return f"{before}{event_id}{after}"


# Stands in for an id while the route builds its URL; an id's characters need no quoting.
_ID_MARK = "event-id"


@lru_cache(maxsize=16)
def _status_url_around_id(script_root: str) -> tuple[str, str]:
    # Built by the router once per mount point, not on every accepted request (2-3% of the
    # web's CPU under load went to building the same URL).
    before, _, after = url_for("events.get_event", event_id=_ID_MARK).partition(_ID_MARK)
    return before, after


def event_json(event: IngestionEvent) -> dict[str, Any]:
    """An ingestion event as the API returns it (the raw body is not included)."""
    return {
        "id": str(event.id),
        "config": str(event.config_id),
        "endpoint": enum_value(event.endpoint),
        "status": enum_value(event.status),
        "action": enum_value(event.action),
        "lead_id": event.lead_id,
        "matched_by": event.matched_by,
        "errors": event.errors or [],
        "warnings": event.warnings or [],
        "match_explanation": event.match_explanation or [],
        "attempts": event.attempts,
        "received_time": iso(event.received_time),
        "processed_time": iso(event.processed_time),
        "next_attempt_time": iso(event.next_attempt_time),
        "last_error": event.last_error,
        "idempotency_key": event.idempotency_key,
        "mapping_version": event.mapping_version,
        "is_test": event.is_test,
        # Set once the raw-body retention emptied the body; the payload endpoint says so.
        "raw_body_purged_time": iso(event.raw_body_purged_time),
    }


def errors_by_field(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    """``[{"field": f, "message": m}]`` → ``{f: [m, ...]}`` for a 422 answer."""
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.get("field", "body"), []).append(error.get("message", ""))
    return grouped
