"""Deciding events without writing: what the worker would do to them now, read only.

The impact report and the replay plan both ask it; both go through ``decide`` with the leads,
lead types and references loaded as the pipeline loads them, so neither has a rule of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from models.base import utcnow
from models.enums import EventAction
from worker.ingest.apply import build_lead
from worker.ingest.claims import claim_of_event, prepare_claim
from worker.ingest.decision import Decision, EventOrder, decide
from worker.ingest.fan_in_store import load_fan_in, longest_window
from worker.ingest.hygiene import OFF, Hygiene
from worker.ingest.lead_types import load_lead_types
from worker.ingest.matching import add_target_leads, load_leads
from worker.ingest.references import with_reference_errors
from worker.ingest.types import PreparedLead


@dataclass(frozen=True)
class Pending:
    """An event to decide: its config, endpoint, place in receive order and prepared payload."""

    config: IngestionConfig
    event: IngestionEvent
    order: EventOrder
    prepared: PreparedLead


def pending_replay(
    event: IngestionEvent, config: IngestionConfig, hygiene: Hygiene = OFF
) -> Pending:
    """The event as a replay would run it: the config's current mapping, its own receive order.

    ``hygiene`` is the organization's placeholders and blocked identifiers, as the worker has.
    """
    prepared = prepare_claim(claim_of_event(event, config), hygiene)
    order = EventOrder(event.received_time, event.seq, prepared.event_time)
    return Pending(config, event, order, prepared)


def decide_read_only(
    session: Session,
    organization_id: int,
    pending: Sequence[Pending],
    created: list[Lead] | None = None,
) -> list[Decision]:
    """The decision for each pending event, in order, against the leads as they stand.

    With ``created`` (a list kept by the caller across calls), a lead an earlier event would
    create is put in play for the events after it, as the pipeline's batch does, without
    ever reaching the session: the new leads are appended to it.
    """
    checked = with_reference_errors(session, organization_id, [item.prepared for item in pending])
    leads = load_leads(session, organization_id, [p.values for p in checked if not p.errors])
    for lead in created or ():
        leads.add(lead)
    targets = [item.event.target_lead_id for item in pending]
    add_target_leads(session, leads, organization_id, targets)
    lead_types = load_lead_types(
        session,
        organization_id,
        [
            *(p.values.get("lead_type") for p in checked),
            *(item.config.default_lead_type for item in pending),
            *(lead.lead_type for lead in leads),
        ],
        with_default=any(item.config.standard_api for item in pending),
    )
    # Quarantine as the worker sees it: the claims on the identifiers in play, read only.
    since = utcnow() - longest_window(item.config for item in pending)
    fan_in = load_fan_in(session, organization_id, [p.values for p in checked], since)
    decisions = []
    for item, prepared in zip(pending, checked, strict=True):
        decision = decide(
            prepared,
            leads,
            item.config,
            item.event.endpoint,
            item.order,
            lead_types,
            item.event.target_lead_id,
            fan_in,
            item.event.is_test,
        )
        if created is not None and decision.action == EventAction.created:
            lead = build_lead(organization_id, decision.values, item.order.seq or 0)
            lead.is_test = item.event.is_test
            leads.add(lead)
            created.append(lead)
        decisions.append(decision)
    return decisions
