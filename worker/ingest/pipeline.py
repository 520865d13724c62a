"""Events in one transaction: guard their rows, lock their identities, decide, apply, record.

A batch is one or more claimed events (see ``worker.ingest.claims``). Each step has a module of
its own (event_rows, advisory_locks, references, decision, apply, outcomes); this one runs them
in order. Every function takes a session and never commits; the task decides the transactions.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg.errors
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Lead
from models.base import utcnow
from models.enums import EventAction
from worker.ingest.advisory_locks import batch_identity_keys, lock_identities
from worker.ingest.apply import LeadValues, build_lead, write_values
from worker.ingest.claims import Claim, searchable_payload
from worker.ingest.decision import ADVANCING_ACTIONS, Decision, EventOrder, decide
from worker.ingest.event_rows import lock_event_rows
from worker.ingest.fan_in_store import load_fan_in, longest_window, record_fan_in
from worker.ingest.lead_types import load_lead_types
from worker.ingest.matching import LeadsInPlay, add_target_leads, load_leads
from worker.ingest.outcomes import Outcome, outcome_of, record_outcomes, record_transient_error
from worker.ingest.provenance import field_changes
from worker.ingest.provenance_store import record_consents, record_history
from worker.ingest.references import with_reference_errors
from worker.ingest.types import PreparedLead
from worker.outbound.callbacks import queue_callbacks
from worker.outbound.outbox import queue_deliveries

# Names other modules (tasks, batches, observe, the fault-injecting test worker) reach here.
__all__ = [
    "ClaimedEvent",
    "Outcome",
    "apply_decision",
    "batch_identity_keys",
    "lock_identities",
    "process_claim",
    "process_claims",
    "record_outcomes",
    "record_transient_error",
]

log = logging.getLogger(__name__)

ClaimedEvent = tuple[Claim, PreparedLead]


def apply_decision(
    session: Session, decision: Decision, claim: Claim, leads: LeadsInPlay
) -> Lead | None:
    """Write a decision: add the lead it creates, or put its changes on the matched lead."""
    if decision.action == EventAction.created:
        lead = build_lead(claim.organization_id, decision.values, claim.seq)
        lead.field_times = decision.field_times
        lead.is_test = claim.is_test
        session.add(lead)
        # The events after this one in the batch must see the lead it created.
        leads.add(lead)
        return lead
    if decision.lead is None:
        return None
    advance = claim.seq if decision.action in ADVANCING_ACTIONS else None
    write_values(decision.lead, decision.values, advance)
    if decision.field_times is not None:
        decision.lead.field_times = decision.field_times
    return decision.lead


def _decide_and_apply(
    session: Session, valid: Sequence[ClaimedEvent], keep_history: bool
) -> dict[uuid.UUID, Outcome]:
    outcomes: dict[uuid.UUID, Outcome] = {}
    pending_history: list[tuple[Lead, list[tuple[str, Any, Any]], Claim]] = []
    pending_consents: list[tuple[Lead, dict[str, Any], Claim]] = []
    for organization_id in sorted({claim.organization_id for claim, _ in valid}):
        mine = [item for item in valid if item[0].organization_id == organization_id]
        checked = with_reference_errors(session, organization_id, [p for _, p in mine])
        leads = load_leads(session, organization_id, [p.values for p in checked if not p.errors])
        add_target_leads(
            session, leads, organization_id, [claim.target_lead_id for claim, _ in mine]
        )
        lead_types = load_lead_types(
            session,
            organization_id,
            [
                *(p.values.get("lead_type") for p in checked),
                *(claim.config.default_lead_type for claim, _ in mine),
                *(lead.lead_type for lead in leads),
            ],
            with_default=any(claim.config.standard_api for claim, _ in mine),
        )
        since = utcnow() - longest_window(claim.config for claim, _ in mine)
        fan_in = load_fan_in(session, organization_id, [p.values for p in checked], since)
        claims: list[tuple[str, str, str, dt.datetime]] = []
        history: list[tuple[Lead, list[tuple[str, Any, Any]], Claim]] = []
        consents: list[tuple[Lead, dict[str, Any], Claim]] = []
        quarantined: list[tuple[str, str, int]] = []
        for (claim, _), prepared in zip(mine, checked, strict=True):
            order = EventOrder(claim.received_time, claim.seq, prepared.event_time)
            decision = decide(
                prepared,
                leads,
                claim.config,
                claim.endpoint,
                order,
                lead_types,
                claim.target_lead_id,
                fan_in,
                claim.is_test,
            )
            before = _values_before(decision)
            written = apply_decision(session, decision, claim, leads)
            outcomes[claim.event_id] = outcome_of(decision, written)
            if written is not None and decision.values:
                history.append((written, field_changes(before, decision.values), claim))
            if written is not None and prepared.consent:
                consents.append((written, prepared.consent, claim))
            # The events after this one in the batch see its claims, as they see its lead.
            for kind, value, external_id in decision.claims:
                fan_in.claim((kind, value), external_id, claim.received_time)
                claims.append((kind, value, external_id, claim.received_time))
            for kind, value, count in decision.quarantined:
                fan_in.quarantine((kind, value))
                quarantined.append((kind, value, count))
        record_fan_in(session, organization_id, claims, quarantined)
        pending_history += history
        pending_consents += consents
    # New leads get their ids here, in one INSERT; updates go out in the same flush.
    session.flush()
    record_history(session, pending_history, keep_fields=keep_history)
    record_consents(session, pending_consents)
    return outcomes


def _values_before(decision: Decision) -> LeadValues:
    """The matched lead's values the decision changes, as they are before it is written."""
    if decision.lead is None or decision.action == EventAction.created:
        return {}
    return {attribute: getattr(decision.lead, attribute) for attribute in decision.values}


def _is_unique_violation(error: IntegrityError) -> bool:
    return isinstance(error.orig, psycopg.errors.UniqueViolation)


def _applied(
    session: Session, valid: Sequence[ClaimedEvent], keep_history: bool
) -> dict[uuid.UUID, Outcome]:
    """Decide and apply the valid events; once more if a unique index caught a race.

    Under the identity locks no other ingestion writes these identifiers, but a writer outside
    them can (a lock that expired, an operator's own SQL). Its row is visible now: deciding
    again sees it, so the event updates it or fails on the field. A second violation is left to
    the attempt's retry.
    """
    try:
        with session.begin_nested():
            return _decide_and_apply(session, valid, keep_history)
    except IntegrityError as error:
        if not _is_unique_violation(error):
            raise
        log.info("a unique index caught a concurrent write; deciding the batch again")
    return _decide_and_apply(session, valid, keep_history)


def process_claims(
    session: Session, batch: Sequence[ClaimedEvent], *, keep_history: bool = True
) -> list[Outcome | None]:
    """Inside one transaction: guard the events, lock identities, decide, apply, record.

    The outcomes come in the batch's order; None for an event another worker took over
    (nothing is written for it). Events are applied in receive order, each seeing the writes of
    those before it. ``keep_history`` False writes no field history (the DNC ledger and the
    consent records are written all the same).
    """
    held = lock_event_rows(session, [claim for claim, _ in batch])
    live = sorted(
        (item for item in batch if item[0].event_id in held), key=lambda item: item[0].seq
    )
    valid = [(claim, prepared) for claim, prepared in live if not prepared.errors]
    lock_identities(session, batch_identity_keys(valid))
    outcomes = _applied(session, valid, keep_history) if valid else {}
    for claim, prepared in live:
        if prepared.errors:
            order = EventOrder(claim.received_time, claim.seq)
            decision = decide(prepared, LeadsInPlay(), claim.config, claim.endpoint, order)
            outcomes[claim.event_id] = outcome_of(decision, None)
    for outcome in outcomes.values():
        if outcome.lead is not None:
            outcome.lead_id = outcome.lead.id
    for claim, _ in live:
        outcome = outcomes[claim.event_id]
        outcome.payload = searchable_payload(claim)
        outcome.mapping_version = claim.config.mapping_version
    record_outcomes(session, outcomes)
    # The lead webhooks' deliveries commit with the changes that fired them (the outbox), and
    # the providers' outcome callbacks with the terminal states they report.
    queue_deliveries(session, outcomes.values())
    with_callback = [claim.event_id for claim, _ in live if claim.config.callback_url is not None]
    for event_id, delivery_id in queue_callbacks(session, with_callback).items():
        outcomes[event_id].delivery_ids.append(delivery_id)
    return [outcomes.get(claim.event_id) for claim, _ in batch]


def process_claim(session: Session, claim: Claim, prepared: PreparedLead) -> Outcome | None:
    """One event in its own transaction; None when another worker took it over."""
    return process_claims(session, [(claim, prepared)])[0]
