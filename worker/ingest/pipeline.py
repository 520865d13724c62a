"""Events in one transaction: guard their rows, lock their identities, match, apply, record.

A batch is one or more claimed events (see ``worker.ingest.claims``). Every function takes a
session and never commits; the task decides the transactions.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead, Representative
from models.base import utcnow
from models.enums import Endpoint, EventAction, EventStatus
from worker.ingest.apply import (
    apply_reengagement,
    apply_update,
    create_lead,
    is_reengagement_due,
    reengagement_days,
)
from worker.ingest.claims import Claim
from worker.ingest.identity import advisory_lock_id, identity_keys
from worker.ingest.matching import (
    LeadsInPlay,
    MatchResult,
    find_duplicate,
    load_leads,
    match_for_upsert,
)
from worker.ingest.types import FieldError, PreparedLead

ClaimedEvent = tuple[Claim, PreparedLead]


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


def check_references(session: Session, organization_id: int, batch: Sequence[PreparedLead]) -> None:
    """Add an error to each payload that names a representative the organization does not have."""
    named = {
        p.values["representative"] for p in batch if p.values.get("representative") is not None
    }
    if not named:
        return
    known = set(
        session.scalars(
            select(Representative.id).where(
                Representative.id.in_(sorted(named)),
                Representative.organization_id == organization_id,
            )
        )
    )
    for prepared in batch:
        representative_id = prepared.values.get("representative")
        if representative_id is not None and representative_id not in known:
            prepared.errors.append(
                FieldError("representative", f"representative {representative_id} does not exist")
            )


def lock_event_rows(session: Session, claims: Sequence[Claim]) -> set[uuid.UUID]:
    """Lock the events' rows; the ids still held by these claims (not taken over, not finished)."""
    attempts = {claim.event_id: claim.attempt for claim in claims}
    rows = session.execute(
        select(IngestionEvent.id, IngestionEvent.status, IngestionEvent.attempts)
        .where(IngestionEvent.id.in_(sorted(attempts)))
        # A fixed order, so two transactions locking overlapping sets cannot deadlock.
        .order_by(IngestionEvent.id)
        .with_for_update()
    ).all()
    return {
        row.id
        for row in rows
        if row.status == EventStatus.processing and row.attempts == attempts[row.id]
    }


def lock_identities(session: Session, keys: list[str]) -> None:
    """Take a transaction-scoped advisory lock per identity key, in a fixed order, at once."""
    # A lock wait past this is treated as transient, so a stuck holder cannot pin a worker.
    session.execute(text("SET LOCAL lock_timeout = '10s'"))
    lock_ids = sorted({advisory_lock_id(key) for key in keys})
    if not lock_ids:
        return
    # One round trip; the sorted subquery fixes the order the locks are taken in.
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(id)) "
            "FROM (SELECT unnest(CAST(:ids AS bigint[])) AS id ORDER BY 1) AS sorted_ids"
        ),
        {"ids": lock_ids},
    )


def _phone_required(result: MatchResult) -> Outcome:
    return Outcome(
        status=EventStatus.failed,
        errors=[
            FieldError("phone_number", "a phone number is required to create a lead").as_dict()
        ],
        warnings=result.warnings,
    )


def _create(
    session: Session, claim: Claim, prepared: PreparedLead, result: MatchResult, leads: LeadsInPlay
) -> Outcome:
    if prepared.values.get("phone_number") is None:
        return _phone_required(result)
    lead = create_lead(claim.config, prepared, claim.received_time, claim.seq)
    session.add(lead)
    leads.add(lead)
    return Outcome(EventStatus.done, EventAction.created, None, None, [], result.warnings, lead)


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
    return Outcome(EventStatus.done, action, lead.id, result.matched_by, [], result.warnings, lead)


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


def match_and_apply(
    session: Session, claim: Claim, prepared: PreparedLead, leads: LeadsInPlay
) -> Outcome:
    """Find the lead among those in play and apply the payload to it (or create one)."""
    if claim.endpoint == Endpoint.create:
        result = find_duplicate(leads, claim.organization_id, prepared.values)
    else:
        result = match_for_upsert(
            leads, claim.organization_id, prepared.values, claim.config.match_keys
        )
    existing = result.lead.lead_metadata if result.lead is not None else {}
    oversized = metadata_size_error(existing or {}, prepared.metadata)
    if oversized is not None:
        # Checked before anything is written: a failed event leaves the lead as it was.
        return Outcome(EventStatus.failed, errors=[oversized.as_dict()], warnings=result.warnings)
    if result.lead is None:
        return _create(session, claim, prepared, result, leads)
    return _apply_to_match(claim, prepared, result, result.lead, claim.endpoint)


def batch_identity_keys(batch: Sequence[ClaimedEvent]) -> list[str]:
    """Every identity key of the batch's valid events, sorted (invalid ones touch no lead)."""
    return sorted(
        {
            key
            for claim, prepared in batch
            if not prepared.errors
            for key in identity_keys(claim.organization_id, prepared.values)
        }
    )


def process_claims(session: Session, batch: Sequence[ClaimedEvent]) -> list[Outcome | None]:
    """Inside one transaction: guard the events, lock identities, match, apply, record.

    The outcomes come in the batch's order; None for an event another worker took over
    (nothing is written for it). Events are applied in receive order, each seeing the writes of
    those before it.
    """
    held = lock_event_rows(session, [claim for claim, _ in batch])
    live = sorted(
        (item for item in batch if item[0].event_id in held), key=lambda item: item[0].seq
    )
    valid = [(claim, prepared) for claim, prepared in live if not prepared.errors]
    lock_identities(session, batch_identity_keys(valid))
    outcomes: dict[uuid.UUID, Outcome] = {}
    for organization_id in sorted({claim.organization_id for claim, _ in valid}):
        mine = [item for item in valid if item[0].organization_id == organization_id]
        check_references(session, organization_id, [prepared for _, prepared in mine])
        leads = load_leads(
            session,
            organization_id,
            [prepared.values for _, prepared in mine if not prepared.errors],
        )
        for claim, prepared in mine:
            if not prepared.errors:
                outcomes[claim.event_id] = match_and_apply(session, claim, prepared, leads)
    for claim, prepared in live:
        if prepared.errors:
            outcomes[claim.event_id] = Outcome(
                EventStatus.failed, errors=[error.as_dict() for error in prepared.errors]
            )
        if prepared.warnings and claim.event_id in outcomes:
            outcome = outcomes[claim.event_id]
            outcome.warnings = [*prepared.warnings, *outcome.warnings]
    # New leads get their ids here, in one INSERT; updates go out in the same flush.
    session.flush()
    for outcome in outcomes.values():
        if outcome.lead is not None:
            outcome.lead_id = outcome.lead.id
    record_outcomes(session, outcomes)
    return [outcomes.get(claim.event_id) for claim, _ in batch]


def process_claim(session: Session, claim: Claim, prepared: PreparedLead) -> Outcome | None:
    """One event in its own transaction; None when another worker took it over."""
    return process_claims(session, [(claim, prepared)])[0]


def record_outcomes(session: Session, outcomes: dict[uuid.UUID, Outcome]) -> None:
    """Write terminal outcomes onto their events, in one statement."""
    if not outcomes:
        return
    now = utcnow()
    session.execute(
        update(IngestionEvent),
        [
            {
                "id": event_id,
                "status": outcome.status,
                "action": outcome.action,
                "lead_id": outcome.lead_id,
                "matched_by": outcome.matched_by,
                "errors": outcome.errors,
                "warnings": outcome.warnings,
                "next_attempt_time": None,
                "processed_time": now,
            }
            for event_id, outcome in outcomes.items()
        ],
    )


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
