"""The one decision: what a prepared payload does to which lead (SPEC section 5).

``decide`` is pure: it reads the payload, the leads in play, the config and the event's place in
receive order, and writes nothing. The pipeline applies its Decision to the database and
records it on the event; the dry run reports it. Both therefore say the same thing.
"""

from __future__ import annotations

import dataclasses
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
from worker.ingest.fan_in import FAN_IN_KEYS, FanIn, FanInRule, judge_fan_in
from worker.ingest.field_times import (
    FieldTimes,
    guard_late,
    is_late,
    stamped,
)
from worker.ingest.lead_types import (
    LeadTypeRules,
    LeadTypesInPlay,
    checked_metadata,
    unknown_lead_type,
)
from worker.ingest.matching import (
    KeyTried,
    LeadsInPlay,
    MatchResult,
    find_duplicate,
    match_for_upsert,
)
from worker.ingest.metadata_cap import metadata_size_error
from worker.ingest.standard import (
    CREATE_ENDPOINTS,
    LOOKUP_ENDPOINTS,
    NO_MATCH,
    cleared_flags,
    external_id_mismatch,
    match_by_id,
    match_for_update,
    no_match_error,
)
from worker.ingest.types import FieldError, PreparedLead

# Actions after which the event counts as the lead's last applied one (I3).
ADVANCING_ACTIONS = frozenset({EventAction.updated, EventAction.unchanged, EventAction.reengaged})


@dataclass(frozen=True)
class EventOrder:
    """An event's place in receive order: its ``seq`` (None: newer than any applied) and time."""

    received_time: dt.datetime
    seq: int | None = None
    # The payload's own time (the mapping's event_time), when it gave a readable one.
    source_time: dt.datetime | None = None

    @property
    def time(self) -> dt.datetime:
        """The event's time for ordering: its source time, else when it was received."""
        return self.source_time or self.received_time

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
    # Why a failed event failed, when it is not a field's fault: NO_MATCH (nothing to change).
    reason: str | None = None
    # Fan-in: the identifiers the event claims, and those it quarantines (written if applied).
    claims: list[tuple[str, str, str]] = field(default_factory=list)
    quarantined: list[tuple[str, str, int]] = field(default_factory=list)
    # Each match key tried, its candidate leads and why each was taken or passed over.
    explanation: list[KeyTried] = field(default_factory=list)
    # The lead's per-field write times after the event (None: they do not change).
    field_times: FieldTimes | None = None

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
    if prepared.min_reengagement_days is not None or endpoint not in CREATE_ENDPOINTS:
        return prepared.min_reengagement_days
    return config.min_reengagement_days


def decide(
    prepared: PreparedLead,
    leads: LeadsInPlay,
    config: IngestionConfig,
    endpoint: Endpoint,
    order: EventOrder,
    lead_types: LeadTypesInPlay | None = None,
    target_lead_id: int | None = None,
    fan_in: FanIn | None = None,
    is_test: bool = False,
) -> Decision:
    """What the event does to which lead, by the matching, update and reengagement rules.

    ``lead_types`` are the organization's lead types in play (see ``load_lead_types``);
    ``target_lead_id`` is the lead a PATCH names; ``fan_in`` the claims on the identifiers in
    play (None: no quarantine); ``is_test`` the event's mode: it matches and conflicts only
    with leads of that mode, and a test event's claims are not counted.
    """
    warnings = [*prepared.warnings, *(blocked.warning() for blocked in prepared.blocked)]
    if prepared.errors:
        return Decision(None, errors=list(prepared.errors), warnings=warnings)
    types = lead_types or LeadTypesInPlay()
    given_type = prepared.values.get("lead_type")
    if given_type is not None and types.get(given_type) is None:
        return Decision(None, errors=[unknown_lead_type(given_type)], warnings=warnings)
    organization_id = config.organization_id
    if endpoint == Endpoint.leads_update and prepared.values.get("phone_number") is None:
        error = FieldError("phone_number", "a phone number is required to find the lead")
        return Decision(None, errors=[error], warnings=warnings)
    verdict = None
    match_values = prepared.values
    if fan_in is not None and endpoint not in (Endpoint.leads_update, Endpoint.leads_patch):
        # The owner's update and PATCH name their lead outright; only matching can be misled.
        rule = FanInRule.of(config.fan_in_limit, config.fan_in_window_days)
        verdict = judge_fan_in(
            prepared.values, fan_in, rule, order.received_time, claiming=not is_test
        )
        match_values = verdict.match_values
        warnings += verdict.warnings
        if endpoint in CREATE_ENDPOINTS and len(match_values) < len(prepared.values):
            # A create's duplicate needs the same phone and the same email: one that cannot
            # be evidence leaves the pair unproven.
            match_values = {k: v for k, v in match_values.items() if k not in FAN_IN_KEYS}
    if endpoint in CREATE_ENDPOINTS:
        match = find_duplicate(leads, organization_id, match_values, is_test)
    elif endpoint == Endpoint.leads_update:
        match = match_for_update(leads, organization_id, prepared.values, is_test)
    elif endpoint == Endpoint.leads_patch:
        match = match_by_id(leads, organization_id, target_lead_id, is_test)
    else:
        match = match_for_upsert(leads, organization_id, match_values, config.match_keys, is_test)
    warnings += match.warnings
    quarantined = set(prepared.values) - set(verdict.match_values) if verdict else set()
    explanation = _explained(match.tried, prepared, match_values, quarantined)
    if match.lead is None and endpoint in LOOKUP_ENDPOINTS:
        return Decision(
            None,
            errors=[no_match_error(endpoint)],
            warnings=warnings,
            reason=NO_MATCH,
            explanation=explanation,
        )
    if match.lead is None:
        decision = _create(prepared, config, order, warnings, types)
    else:
        decision = _to_match(prepared, config, endpoint, order, match, match.lead, warnings, types)
    decision = _checked(decision, leads, organization_id, is_test)
    decision.explanation = explanation
    if verdict is not None and not decision.failed:
        decision.claims, decision.quarantined = verdict.claims, verdict.quarantined
    return decision


def _explained(
    tried: list[KeyTried],
    prepared: PreparedLead,
    match_values: dict[str, Any],
    quarantined: set[str],
) -> list[KeyTried]:
    """The keys tried, a key without a value saying why: blocked, quarantined or not given."""
    blocked = {value.field for value in prepared.blocked}
    for key in tried:
        if key.skipped is None:
            continue
        if key.key in blocked:
            key.skipped = "blocked identifier"
        elif key.key in quarantined:
            key.skipped = "quarantined"
        elif key.key in prepared.values and key.key not in match_values:
            key.skipped = "a create's duplicate needs both phone and email; one is quarantined"
    return tried


def _create(
    prepared: PreparedLead,
    config: IngestionConfig,
    order: EventOrder,
    warnings: list[dict[str, Any]],
    lead_types: LeadTypesInPlay,
) -> Decision:
    if prepared.values.get("phone_number") is None:
        return Decision(None, errors=[_no_phone_to_create(prepared)], warnings=warnings)
    values, ignored = new_lead_values(config, prepared, order.received_time)
    lead_type = lead_types.get(values["lead_type"])
    if config.standard_api:
        # The standard API routes a new lead by its lead type: the one given, else the
        # organization's default; a custom config routes by its own campaign.
        lead_type = lead_type or lead_types.default
        if lead_type is None:
            error = FieldError(
                "lead_type",
                "required: give a lead_type; the organization has no default lead type",
            )
            return Decision(None, errors=[error], warnings=warnings)
        values.update(campaign_id=lead_type.campaign_id, lead_type=lead_type.id)
    errors = _convert_metadata(values, lead_type, creating=True)
    if errors:
        return Decision(None, errors=errors, warnings=warnings)
    written = {name: value for name, value in values.items() if value is not None}
    decision = Decision(EventAction.created, values=values, warnings=[*warnings, *ignored])
    decision.field_times = stamped({}, {}, written, order.time, latest=True)
    return decision


def _no_phone_to_create(prepared: PreparedLead) -> FieldError:
    """The create's error; when hygiene refused the payload's number, it says so."""
    required = "a phone number is required to create a lead"
    for blocked in prepared.blocked:
        if blocked.field == "phone_number":
            return FieldError(
                "phone_number",
                f"{blocked.masked} is a blocked identifier ({blocked.reason}); {required}",
            )
    return FieldError("phone_number", required)


def _convert_metadata(
    values: LeadValues, lead_type: LeadTypeRules | None, creating: bool
) -> list[FieldError]:
    """Convert ``values["lead_metadata"]`` in place to the lead type's declared field types."""
    if lead_type is None or not lead_type.fields:
        return []
    converted, errors = checked_metadata(values["lead_metadata"], lead_type, creating)
    values["lead_metadata"] = converted
    return errors


def _to_match(
    prepared: PreparedLead,
    config: IngestionConfig,
    endpoint: Endpoint,
    order: EventOrder,
    match: MatchResult,
    lead: Lead,
    warnings: list[dict[str, Any]],
    lead_types: LeadTypesInPlay,
) -> Decision:
    if endpoint == Endpoint.leads_update:
        mismatch = external_id_mismatch(lead, prepared.values)
        if mismatch is not None:
            return Decision(None, errors=[mismatch], warnings=warnings)
    lead_type = lead_types.get(prepared.values.get("lead_type") or lead.lead_type)
    given = {"lead_metadata": prepared.metadata}
    errors = _convert_metadata(given, lead_type, creating=False)
    if errors:
        return Decision(None, errors=errors, warnings=warnings)
    prepared = dataclasses.replace(prepared, metadata=given["lead_metadata"])
    current = lead_values(lead)
    days = reengagement_days(prepared, config, endpoint)
    # The owner's own PATCH may clear a DNC flag; ingestion never does.
    sticky_dnc = endpoint != Endpoint.leads_patch
    times: FieldTimes = dict(lead.field_times or {})
    late = is_late(times, order.source_time)
    if late is None:
        late = order.seq is not None and order.seq < (lead.last_event_seq or 0)
    if late:
        # I3: a late event sets what no newer event wrote, and never undoes a newer write.
        merged = merged_values(current, prepared, fill_only=False, sticky_dnc=sticky_dnc)
        action, after = EventAction.stale, guard_late(current, merged, times, order.time)
    elif is_reengagement_due(current, days, order.received_time):
        action, after = (
            EventAction.reengaged,
            reengaged_values(current, prepared, order.received_time),
        )
    elif endpoint in CREATE_ENDPOINTS:
        action, after = EventAction.duplicate, current
    else:
        after = merged_values(current, prepared, fill_only=False, sticky_dnc=sticky_dnc)
        action = EventAction.updated if after != current else EventAction.unchanged
    changes = changed_values(current, after)
    warnings = [*warnings, *cleared_flags(current, after)]
    decision = Decision(action, lead, match.matched_by, changes, warnings=warnings)
    if changes:
        decision.field_times = stamped(times, current, changes, order.time, latest=not late)
    return decision


def _checked(
    decision: Decision, leads: LeadsInPlay, organization_id: int, is_test: bool
) -> Decision:
    """The decision, or a failure when what it writes cannot be stored."""
    if decision.failed:
        return decision
    errors = []
    conflict = _external_id_conflict(decision, leads, organization_id, is_test)
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
    decision: Decision, leads: LeadsInPlay, organization_id: int, is_test: bool
) -> FieldError | None:
    """An error when the event would give a lead an external id another lead holds.

    External ids are unique in an organization and mode; a retry cannot cure this (match keys
    without ``external_id`` let a payload reach a lead by phone or email), so it is a field
    error.
    """
    external_id = decision.values.get("external_id")
    if external_id is None:
        return None
    holders = [
        lead
        for lead in leads.with_value(organization_id, "external_id", external_id, is_test)
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
