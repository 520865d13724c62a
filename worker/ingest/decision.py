"""The one decision: what a prepared payload does to which lead (SPEC section 5).

``decide`` is pure: it reads the payload, the leads in play, the config and the event's place in
receive order, and writes nothing. The pipeline applies its Decision to the database and
records it on the event; the dry run reports it. Both therefore say the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from models import IngestionConfig, Lead
from models.base import utcnow
from models.enums import Endpoint, EventAction
from worker.ingest.apply import (
    LeadValues,
    changed_values,
    is_reengagement_due,
    lead_values,
    merged_values,
    new_lead_values,
    reengaged_values,
)
from worker.ingest.matching import LeadsInPlay, MatchResult, find_duplicate, match_for_upsert
from worker.ingest.metadata_cap import metadata_size_error
from worker.ingest.types import FieldError, PreparedLead

# Actions after which the event counts as the lead's last applied one (I3).
ADVANCING_ACTIONS = frozenset({EventAction.updated, EventAction.unchanged, EventAction.reengaged})


@dataclass(frozen=True)
class EventOrder:
    """An event's place in receive order: its ``seq`` (None: newer than any applied) and time."""

    received_time: dt.datetime
    seq: int | None = None

    @classmethod
    def newest(cls) -> EventOrder:
        """An event received now, after every event applied so far (what the dry run asks)."""
        return cls(received_time=utcnow())


@dataclass
class Decision:
    """What an event does: its action (None: it fails), the lead, and the values it writes.

    ``values`` holds, for ``created``, every value of the new lead; otherwise only the
    attributes the event changes on ``lead`` (empty for unchanged and duplicate).
    """

    action: EventAction | None
    lead: Lead | None = None
    matched_by: str | None = None
    values: LeadValues = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when the event fails and nothing is written."""
        return self.action is None

    def stored_values(self) -> LeadValues:
        """The lead's values as they would be stored after the event."""
        if self.lead is None:
            return dict(self.values)
        return {**lead_values(self.lead), **self.values}


def reengagement_days(
    prepared: PreparedLead, config: IngestionConfig, endpoint: Endpoint
) -> int | None:
    """The payload's ``min_reengagement_days``; on the create endpoint, else the config's.

    An upsert reengages only when its own payload asks: a CRM's update must never be turned
    into a reengagement by a default meant for providers resending leads.
    """
    if prepared.min_reengagement_days is not None or endpoint == Endpoint.upsert:
        return prepared.min_reengagement_days
    return config.min_reengagement_days


def decide(
    prepared: PreparedLead,
    leads: LeadsInPlay,
    config: IngestionConfig,
    endpoint: Endpoint,
    order: EventOrder,
) -> Decision:
    """What the event does to which lead, by the matching, update and reengagement rules."""
    warnings = list(prepared.warnings)
    if prepared.errors:
        return Decision(None, errors=list(prepared.errors), warnings=warnings)
    organization_id = config.organization_id
    if endpoint == Endpoint.create:
        match = find_duplicate(leads, organization_id, prepared.values)
    else:
        match = match_for_upsert(leads, organization_id, prepared.values, config.match_keys)
    warnings += match.warnings
    if match.lead is None:
        decision = _create(prepared, config, order, warnings)
    else:
        decision = _to_match(prepared, config, endpoint, order, match, match.lead, warnings)
    return _checked(decision, leads, organization_id)


def _create(
    prepared: PreparedLead,
    config: IngestionConfig,
    order: EventOrder,
    warnings: list[dict[str, Any]],
) -> Decision:
    if prepared.values.get("phone_number") is None:
        error = FieldError("phone_number", "a phone number is required to create a lead")
        return Decision(None, errors=[error], warnings=warnings)
    values, ignored = new_lead_values(config, prepared, order.received_time)
    return Decision(EventAction.created, values=values, warnings=[*warnings, *ignored])


def _to_match(
    prepared: PreparedLead,
    config: IngestionConfig,
    endpoint: Endpoint,
    order: EventOrder,
    match: MatchResult,
    lead: Lead,
    warnings: list[dict[str, Any]],
) -> Decision:
    current = lead_values(lead)
    days = reengagement_days(prepared, config, endpoint)
    if order.seq is not None and order.seq < (lead.last_event_seq or 0):
        # I3: a late event only fills what is still empty.
        action, after = EventAction.stale, merged_values(current, prepared, fill_only=True)
    elif is_reengagement_due(current, days, order.received_time):
        action, after = (
            EventAction.reengaged,
            reengaged_values(current, prepared, order.received_time),
        )
    elif endpoint == Endpoint.create:
        action, after = EventAction.duplicate, current
    else:
        after = merged_values(current, prepared, fill_only=False)
        action = EventAction.updated if after != current else EventAction.unchanged
    changes = changed_values(current, after)
    return Decision(action, lead, match.matched_by, changes, warnings=warnings)


def _checked(decision: Decision, leads: LeadsInPlay, organization_id: int) -> Decision:
    """The decision, or a failure when what it writes cannot be stored."""
    if decision.failed:
        return decision
    errors = []
    conflict = _external_id_conflict(decision, leads, organization_id)
    if conflict is not None:
        errors.append(conflict)
    if "lead_metadata" in decision.values:
        oversized = metadata_size_error(decision.values["lead_metadata"])
        if oversized is not None:
            errors.append(oversized)
    if not errors:
        return decision
    # Checked before anything is written: a failed event leaves the lead as it was.
    return Decision(None, errors=errors, warnings=decision.warnings)


def _external_id_conflict(
    decision: Decision, leads: LeadsInPlay, organization_id: int
) -> FieldError | None:
    """An error when the event would give a lead an external id another lead holds.

    External ids are unique in an organization; a retry cannot cure this (match keys without
    ``external_id`` let a payload reach a lead by phone or email), so it is a field error.
    """
    external_id = decision.values.get("external_id")
    if external_id is None:
        return None
    holders = [
        lead
        for lead in leads.with_value(organization_id, "external_id", external_id)
        if lead is not decision.lead
    ]
    if not holders:
        return None
    holder = holders[0]
    # Only the holder's id is named: its data is not this payload's to see.
    who = f"lead {holder.id}" if holder.id is not None else "a lead an earlier event created"
    return FieldError(
        "external_id", f"the external id already belongs to {who}; external ids are unique"
    )
