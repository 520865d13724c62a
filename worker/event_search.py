"""Which events an operator asks for: the events list's filters, as SQL conditions.

One definition for every reader of the inbox by filter (the HTTP list, the CLI, a replay).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from models import IngestionEvent
from models.enums import Endpoint, EventAction, EventStatus
from models.ingestion_event import NOT_DONE_EVENTS


@dataclass(frozen=True)
class EventFilter:
    """Every filter is optional; the ones given must all hold (statuses and actions: any one)."""

    config: uuid.UUID | None = None
    statuses: tuple[EventStatus, ...] = ()
    actions: tuple[EventAction, ...] = ()
    endpoint: Endpoint | None = None
    # Events that failed on this field: one of their errors names it.
    error_field: str | None = None
    lead: int | None = None
    since: dt.datetime | None = None  # received at or after
    until: dt.datetime | None = None  # received before
    idempotency_key: str | None = None
    # A JSON object the parsed payload must contain (jsonb @>), e.g. {"contact": {"email": ...}}
    payload_contains: dict[str, Any] = field(default_factory=dict)


def event_conditions(wanted: EventFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the filter (organization scoping is the caller's)."""
    events = IngestionEvent
    conditions: list[ColumnElement[bool]] = []
    if wanted.config is not None:
        conditions.append(events.config_id == wanted.config)
    if wanted.statuses:
        conditions.append(events.status.in_(wanted.statuses))
        if EventStatus.done not in wanted.statuses:
            # The not-done index's own predicate, as a constant: a generic plan (prepared
            # statements behind a pooler) can use a partial index only when the query says so.
            conditions.append(and_(text(NOT_DONE_EVENTS)))
    if wanted.actions:
        conditions.append(events.action.in_(wanted.actions))
    if wanted.endpoint is not None:
        conditions.append(events.endpoint == wanted.endpoint)
    if wanted.error_field is not None:
        errors = type_coerce(events.errors, JSONB)
        conditions.append(errors.contains([{"field": wanted.error_field}]))
    if wanted.lead is not None:
        conditions.append(events.lead_id == wanted.lead)
    if wanted.since is not None:
        conditions.append(events.received_time >= wanted.since)
    if wanted.until is not None:
        conditions.append(events.received_time < wanted.until)
    if wanted.idempotency_key is not None:
        conditions.append(events.idempotency_key == wanted.idempotency_key)
    if wanted.payload_contains:
        # The GIN index (jsonb_path_ops) on the parsed copy serves exactly this operator.
        payload = type_coerce(events.payload, JSONB)
        conditions.append(payload.contains(wanted.payload_contains))
    return conditions
