"""One ingestion event, stage by stage: claim, prepare, then match and apply under locks.

Every function takes a session and never commits; the task decides the transactions.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from leadgate.payloads import PayloadError, merge_query, parse_body
from models import IngestionConfig, IngestionEvent, Lead, Representative
from models.base import utcnow
from models.enums import Endpoint, EventAction, EventStatus
from worker.ingest.apply import (
    apply_reengagement,
    apply_update,
    create_lead,
    is_reengagement_due,
    reengagement_days,
)
from worker.ingest.identity import advisory_lock_id, identity_keys
from worker.ingest.mapping import compiled_mapping_for
from worker.ingest.matching import MatchResult, find_duplicate, match_for_upsert
from worker.ingest.prepare import prepare_lead
from worker.ingest.types import FieldError, PreparedLead

_CLAIMABLE = (EventStatus.queued, EventStatus.retrying)


@dataclass
class Claim:
    """An event this worker now holds, with what processing it needs."""

    event_id: uuid.UUID
    attempt: int
    seq: int
    endpoint: Endpoint
    organization_id: int
    received_time: dt.datetime
    config: IngestionConfig
    payload_error: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What became of an event."""

    status: EventStatus
    action: EventAction | None = None
    lead_id: int | None = None
    matched_by: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


def claim_event(
    session: Session, event_id: uuid.UUID, lease_seconds: float, max_attempts: int
) -> Claim | None:
    """Mark the event processing and count the attempt; None if it is not ours to process.

    An event is claimable when queued or retrying, or when processing under a lease that ran out
    (its worker died). A second delivery of an event that is being processed finds it leased.
    An event past its attempts (say, one whose processing kills the worker every time) is
    declared dead here, since no attempt of it ever got to record an error.
    """
    now = utcnow()
    row = session.execute(
        update(IngestionEvent)
        .where(
            IngestionEvent.id == event_id,
            (IngestionEvent.status.in_(_CLAIMABLE))
            | (
                (IngestionEvent.status == EventStatus.processing)
                & (IngestionEvent.next_attempt_time < now)
            ),
        )
        .values(
            status=EventStatus.processing,
            attempts=IngestionEvent.attempts + 1,
            next_attempt_time=now + dt.timedelta(seconds=lease_seconds),
        )
        .returning(
            IngestionEvent.attempts,
            IngestionEvent.seq,
            IngestionEvent.endpoint,
            IngestionEvent.organization_id,
            IngestionEvent.received_time,
            IngestionEvent.config_id,
            IngestionEvent.raw_body,
            IngestionEvent.content_type,
            IngestionEvent.query_string,
        )
    ).one_or_none()
    if row is None:
        return None
    if row.attempts > max_attempts:
        _declare_dead(session, event_id, f"gave up after {max_attempts} attempts; the last died")
        return None
    config = session.get(IngestionConfig, row.config_id)
    assert config is not None  # a foreign key guarantees it
    claim = Claim(
        event_id=event_id,
        attempt=row.attempts,
        seq=row.seq,
        endpoint=row.endpoint,
        organization_id=row.organization_id,
        received_time=row.received_time,
        config=config,
    )
    try:
        claim.payload = merge_query(parse_body(row.raw_body, row.content_type), row.query_string)
    except PayloadError as error:
        claim.payload_error = str(error)
    return claim


def _declare_dead(session: Session, event_id: uuid.UUID, reason: str) -> None:
    now = utcnow()
    session.execute(
        update(IngestionEvent)
        .where(IngestionEvent.id == event_id)
        .values(
            status=EventStatus.dead, last_error=reason, next_attempt_time=None, processed_time=now
        )
    )


def prepare_claim(claim: Claim) -> PreparedLead:
    """Map and normalize the claimed event's payload with the config's current mapping."""
    if claim.payload_error is not None:
        return PreparedLead(errors=[FieldError("body", claim.payload_error)])
    config = claim.config
    mapping = compiled_mapping_for(config.id, config.version, config.mapping)
    return prepare_lead(mapping, claim.payload)


def check_references(session: Session, organization_id: int, prepared: PreparedLead) -> None:
    """Add an error when the payload names a representative the organization does not have."""
    representative_id = prepared.values.get("representative")
    if representative_id is None:
        return
    found = session.scalar(
        select(func.count())
        .select_from(Representative)
        .where(
            Representative.id == representative_id,
            Representative.organization_id == organization_id,
        )
    )
    if not found:
        prepared.errors.append(
            FieldError("representative", f"representative {representative_id} does not exist")
        )


def lock_event_row(session: Session, claim: Claim) -> bool:
    """Lock the event row; False when another worker took it over or finished it meanwhile."""
    row = session.execute(
        select(IngestionEvent.status, IngestionEvent.attempts)
        .where(IngestionEvent.id == claim.event_id)
        .with_for_update()
    ).one()
    return bool(row.status == EventStatus.processing and row.attempts == claim.attempt)


def lock_identities(session: Session, keys: list[str]) -> None:
    """Take a transaction-scoped advisory lock per identity key, in a fixed order."""
    # A lock wait past this is treated as transient, so a stuck holder cannot pin a worker.
    session.execute(text("SET LOCAL lock_timeout = '10s'"))
    for lock_id in sorted(advisory_lock_id(key) for key in keys):
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _phone_required(result: MatchResult) -> Outcome:
    return Outcome(
        status=EventStatus.failed,
        errors=[
            FieldError("phone_number", "a phone number is required to create a lead").as_dict()
        ],
        warnings=result.warnings,
    )


def _create(session: Session, claim: Claim, prepared: PreparedLead, result: MatchResult) -> Outcome:
    if prepared.values.get("phone_number") is None:
        return _phone_required(result)
    lead = create_lead(claim.config, prepared, claim.received_time, claim.seq)
    session.add(lead)
    session.flush()
    return Outcome(EventStatus.done, EventAction.created, lead.id, None, [], result.warnings)


def _apply_to_match(
    claim: Claim, prepared: PreparedLead, result: MatchResult, lead: Lead, endpoint: Endpoint
) -> Outcome:
    stale = claim.seq < (lead.last_event_seq or 0)
    due = is_reengagement_due(lead, reengagement_days(prepared, claim.config), claim.received_time)
    if stale:
        apply_update(lead, prepared, claim.seq, stale=True)
        action = EventAction.stale
    elif due:
        apply_reengagement(lead, prepared, claim.received_time, claim.seq)
        action = EventAction.reengaged
    elif endpoint == Endpoint.create:
        action = EventAction.duplicate
    else:
        changed = apply_update(lead, prepared, claim.seq, stale=False)
        action = EventAction.updated if changed else EventAction.unchanged
    return Outcome(EventStatus.done, action, lead.id, result.matched_by, [], result.warnings)


# A lead's metadata after the merge may not exceed this many bytes of JSON: four times the default
# body limit, so any one accepted payload fits, yet no provider can grow one row without bound by
# sending new keys update after update.
MAX_METADATA_BYTES = 1024 * 1024


def metadata_size_error(existing: dict[str, Any], incoming: dict[str, Any]) -> FieldError | None:
    """An error when merging ``incoming`` into ``existing`` would pass MAX_METADATA_BYTES."""
    if not incoming:
        return None
    merged = {**existing, **incoming}
    size = len(json.dumps(merged, ensure_ascii=False, default=str).encode("utf-8"))
    if size <= MAX_METADATA_BYTES:
        return None
    return FieldError(
        "metadata",
        f"the lead's metadata would be {size} bytes after this payload's keys are merged; "
        f"the limit is {MAX_METADATA_BYTES} bytes",
    )


def match_and_apply(session: Session, claim: Claim, prepared: PreparedLead) -> Outcome:
    """Find the lead and apply the payload to it (or create one) by the endpoint's rules."""
    if claim.endpoint == Endpoint.create:
        result = find_duplicate(session, claim.organization_id, prepared.values)
    else:
        result = match_for_upsert(
            session, claim.organization_id, prepared.values, claim.config.match_keys
        )
    existing = result.lead.lead_metadata if result.lead is not None else {}
    oversized = metadata_size_error(existing or {}, prepared.metadata)
    if oversized is not None:
        # Checked before anything is written: a failed event leaves the lead as it was.
        return Outcome(EventStatus.failed, errors=[oversized.as_dict()], warnings=result.warnings)
    if result.lead is None:
        return _create(session, claim, prepared, result)
    outcome = _apply_to_match(claim, prepared, result, result.lead, claim.endpoint)
    session.flush()
    return outcome


def process_claim(session: Session, claim: Claim, prepared: PreparedLead) -> Outcome | None:
    """Inside one transaction: guard the event, lock identities, match, apply, record.

    Returns None when the event was taken over by another worker (nothing is written).
    """
    if not lock_event_row(session, claim):
        return None
    lock_identities(session, identity_keys(claim.organization_id, prepared.values))
    check_references(session, claim.organization_id, prepared)
    if prepared.errors:
        outcome = Outcome(EventStatus.failed, errors=[e.as_dict() for e in prepared.errors])
    else:
        outcome = match_and_apply(session, claim, prepared)
    record_outcome(session, claim.event_id, outcome)
    return outcome


def record_outcome(session: Session, event_id: uuid.UUID, outcome: Outcome) -> None:
    """Write a terminal outcome onto the event."""
    session.execute(
        update(IngestionEvent)
        .where(IngestionEvent.id == event_id)
        .values(
            status=outcome.status,
            action=outcome.action,
            lead_id=outcome.lead_id,
            matched_by=outcome.matched_by,
            errors=outcome.errors,
            warnings=outcome.warnings,
            next_attempt_time=None,
            processed_time=utcnow(),
        )
    )


def record_failure(session: Session, claim: Claim, errors: list[FieldError]) -> Outcome | None:
    """Fail a claimed event with its validation errors, unless another worker took it over."""
    if not lock_event_row(session, claim):
        return None
    outcome = Outcome(EventStatus.failed, errors=[error.as_dict() for error in errors])
    record_outcome(session, claim.event_id, outcome)
    return outcome


def record_transient_error(
    session: Session,
    event_id: uuid.UUID,
    attempt: int,
    error: str,
    max_attempts: int,
    retry_in_seconds: float,
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
        )
        .returning(IngestionEvent.id)
    )
    return status if written is not None else None
