"""Recording what became of events: terminal outcomes, and failed attempts to be retried."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead
from models.base import utcnow
from models.enums import EventAction, EventStatus
from models.ingestion_event import event_time_bounds
from models.webhook import WebhookTrigger
from worker.ingest.decision import Decision
from worker.ingest.matching import KeyTried
from worker.lead_payload import lead_json
from worker.outbound.triggers import fired_triggers


@dataclass
class Outcome:
    """What became of an event."""

    status: EventStatus
    action: EventAction | None = None
    lead_id: int | None = None
    matched_by: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # The lead written, whose id a new lead only gets at the flush.
    lead: Lead | None = field(default=None, repr=False, compare=False)
    # Why a failed event failed beyond its field errors (``no_match``), kept as its last_error.
    reason: str | None = None
    # The lead webhook triggers the event fired; the lead as this event left it (a later event
    # of the batch may change it again before the deliveries are queued); and their ids.
    triggers: list[WebhookTrigger] = field(default_factory=list, compare=False)
    snapshot: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    delivery_ids: list[int] = field(default_factory=list, compare=False)
    # The parsed body, kept on the event for payload_contains (None: unreadable or unstorable).
    payload: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # The config's mapping version the event was processed with.
    mapping_version: int | None = None
    # The match explanation: each key tried and its candidates (rendered once ids are known).
    explanation: list[KeyTried] = field(default_factory=list, repr=False, compare=False)


def outcome_of(decision: Decision, lead: Lead | None) -> Outcome:
    """The outcome to record for an applied decision; ``lead`` is the lead it wrote, if any."""
    if decision.failed:
        return Outcome(
            EventStatus.failed,
            errors=[error.as_dict() for error in decision.errors],
            warnings=decision.warnings,
            reason=decision.reason,
            explanation=decision.explanation,
        )
    triggers = fired_triggers(decision.action, decision.values)
    return Outcome(
        EventStatus.done,
        decision.action,
        lead.id if lead is not None else None,
        decision.matched_by,
        [],
        decision.warnings,
        lead,
        triggers=triggers,
        snapshot=lead_json(lead) if triggers and lead is not None else None,
        explanation=decision.explanation,
    )


_EVENTS = cast(Table, IngestionEvent.__table__)


def _update_by_id(*columns: str) -> Update:
    # Each column set from a parameter "new_<column>" carrying the column's own type; the id's
    # time range (event_time_bounds) lets PostgreSQL read one month's partition, as the claim does.
    return (
        update(_EVENTS)
        .where(
            _EVENTS.c.id == bindparam("event_id"),
            _EVENTS.c.received_time >= bindparam("received_from"),
            _EVENTS.c.received_time < bindparam("received_until"),
        )
        .values({name: bindparam(f"new_{name}", type_=_EVENTS.c[name].type) for name in columns})
    )


def _by_id(event_id: uuid.UUID) -> dict[str, object]:
    received_from, received_until = event_time_bounds(event_id)
    return {"event_id": event_id, "received_from": received_from, "received_until": received_until}


_RECORD_OUTCOME = _update_by_id(
    "status",
    "action",
    "lead_id",
    "matched_by",
    "errors",
    "warnings",
    "next_attempt_time",
    "processed_time",
    "payload",
    "mapping_version",
    "match_explanation",
)
_RECORD_REASON = _update_by_id("last_error")


def record_outcomes(session: Session, outcomes: dict[uuid.UUID, Outcome]) -> None:
    """Write terminal outcomes onto their events, in one statement."""
    if not outcomes:
        return
    now = utcnow()
    # Core executemany keyed by id alone: the ORM's bulk UPDATE by primary key would want
    # received_time too (the partitioned inbox's key holds it), which the outcomes lack.
    session.connection().execute(
        _RECORD_OUTCOME,
        [
            {
                **_by_id(event_id),
                "new_status": outcome.status,
                "new_action": outcome.action,
                "new_lead_id": outcome.lead_id,
                "new_matched_by": outcome.matched_by,
                "new_errors": outcome.errors,
                "new_warnings": outcome.warnings,
                "new_next_attempt_time": None,
                "new_processed_time": now,
                "new_payload": outcome.payload,
                "new_mapping_version": outcome.mapping_version,
                "new_match_explanation": [key.as_dict() for key in outcome.explanation],
            }
            for event_id, outcome in outcomes.items()
        ],
    )
    reasons = [(event_id, o.reason) for event_id, o in outcomes.items() if o.reason is not None]
    if reasons:
        session.connection().execute(
            _RECORD_REASON,
            [{**_by_id(event_id), "new_last_error": reason} for event_id, reason in reasons],
        )


def record_transient_error(
    session: Session,
    event_id: uuid.UUID,
    attempt: int,
    error: str,
    max_attempts: int,
    retry_in_seconds: float,
    payload: dict[str, Any] | None = None,
) -> EventStatus | None:
    """Mark the event retrying (due in ``retry_in_seconds``) or, out of attempts, dead.

    Returns None when the attempt no longer holds the event (its lease ran out and another
    worker took it over): that worker's attempt decides, so nothing is written.
    """
    status = EventStatus.dead if attempt >= max_attempts else EventStatus.retrying
    now = utcnow()
    written = session.scalar(
        update(IngestionEvent)
        .where(
            IngestionEvent.id == event_id,
            IngestionEvent.status == EventStatus.processing,
            IngestionEvent.attempts == attempt,
        )
        .values(
            status=status,
            last_error=error[:2000],
            next_attempt_time=None
            if status == EventStatus.dead
            else now + dt.timedelta(seconds=retry_in_seconds),
            processed_time=now if status == EventStatus.dead else None,
            # A dead letter is what an operator searches for first; keep its payload findable.
            payload=payload,
        )
        .returning(IngestionEvent.id)
    )
    return status if written is not None else None
