"""What a candidate mapping would do to a config's recent real traffic, told before it is saved.

Each of the config's most recent events is read again: its payload through the mapping version
it was processed with (what it wrote) and through the candidate (what it would write), and the
candidate's result through the decision function against the leads as they stand. Nothing is
written. The report compares outcomes (an event that would now fail, or succeed, or write
another lead) and values field by field.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.payloads import PayloadError, merge_query, read_body
from models import IngestionConfig, IngestionEvent, MappingVersion
from models.enums import EventStatus
from worker.blocked_identifiers import load_hygiene
from worker.configs import validate_mapping
from worker.dry_run import WOULD, WOULD_FAIL
from worker.ingest.decision import Decision, EventOrder
from worker.ingest.lead_fields import METADATA_PREFIX
from worker.ingest.mapping import CompiledMapping, compile_mapping
from worker.ingest.prepare import prepare_lead
from worker.ingest.types import PreparedLead
from worker.payload_view import decoded_shape
from worker.read_only_decisions import Pending, decide_read_only

DEFAULT_SAMPLE = 200
MAX_SAMPLE = 1000
# Events listed one by one in the report; the counts cover the whole sample.
MAX_LISTED = 50
# What an event did, for the summary: "where it created lead 790".
_PAST = {
    "create": "created",
    "update": "updated",
    "unchanged": "left unchanged",
    "duplicate": "was a duplicate of",
    "reengage": "reengaged",
    "stale": "filled in (stale)",
}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def field_values(prepared: PreparedLead) -> dict[str, Any]:
    """What a prepared payload writes, by field: ``phone_number``, ``metadata.loan_amount``."""
    values = {name: _plain(value) for name, value in prepared.values.items()}
    values |= {f"{METADATA_PREFIX}{key}": value for key, value in prepared.metadata.items()}
    return values


@dataclass
class _Tally:
    examined: int = 0
    unreadable: int = 0
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    other_lead: list[dict[str, Any]] = field(default_factory=list)
    failed_fields: Counter[str] = field(default_factory=Counter)
    failure_example: dict[str, str] = field(default_factory=dict)
    changed_fields: Counter[str] = field(default_factory=Counter)
    changed_leads: set[object] = field(default_factory=set)
    # Events waiting on a held config, by what they would do when released.
    held: Counter[str] = field(default_factory=Counter)


def _payload(event: IngestionEvent) -> dict[str, Any] | None:
    try:
        body = read_body(event.raw_body, event.content_type)
    except PayloadError:
        return None
    return merge_query(body.payload, event.query_string)


def _before(event: IngestionEvent) -> str | None:
    """What the event did: a dry-run verb, or None while it has no outcome (or died)."""
    if event.status == EventStatus.failed:
        return WOULD_FAIL
    if event.status == EventStatus.done and event.action is not None:
        return WOULD[event.action]
    return None


def _other_lead(entry: dict[str, Any]) -> str:
    """ "1 would update lead 812 where it created lead 790"."""
    after = "create a new lead" if entry["after"] == "create" else (
        f"{entry['after']} lead {entry['lead_after']}"
    )  # fmt: skip
    return f"1 would {after} where it {_PAST[entry['before']]} lead {entry['lead_before']}"


def _weigh(
    tally: _Tally,
    event: IngestionEvent,
    was: PreparedLead,
    now: PreparedLead,
    decision: Decision,
) -> None:
    tally.examined += 1
    before = _before(event)
    after = WOULD_FAIL if decision.action is None else WOULD[decision.action]
    after_lead = decision.lead.id if decision.lead is not None else None
    entry = {"event": str(event.id), "before": before, "after": after}
    if event.status == EventStatus.held:
        tally.held[after] += 1
    if after == WOULD_FAIL and before != WOULD_FAIL:
        errors = [error.as_dict() for error in decision.errors]
        tally.new_failures.append(entry | {"errors": errors})
        for error in errors:
            tally.failed_fields[error["field"]] += 1
            tally.failure_example.setdefault(error["field"], error["message"])
    elif before == WOULD_FAIL and after != WOULD_FAIL:
        tally.fixed.append(entry | {"lead_after": after_lead})
    elif before not in (None, WOULD_FAIL) and event.lead_id not in (None, after_lead):
        tally.other_lead.append(entry | {"lead_before": event.lead_id, "lead_after": after_lead})
    # Values are compared where the event wrote some and the candidate would write some too.
    if before not in (None, WOULD_FAIL) and after != WOULD_FAIL and not was.errors:
        old_values, new_values = field_values(was), field_values(now)
        changed = sorted(
            name
            for name in old_values.keys() | new_values.keys()
            if old_values.get(name) != new_values.get(name)
        )
        tally.changed_fields.update(changed)
        if changed:
            tally.changed_leads.add(event.lead_id or after_lead or event.id)


def _summary(version: int, tally: _Tally) -> str:
    changes = len(tally.new_failures) + len(tally.fixed) + len(tally.other_lead)
    parts = []
    if tally.new_failures:
        fields = ", ".join(
            f"{name}: {tally.failure_example[name]}"
            for name, _ in tally.failed_fields.most_common(3)
        )
        parts.append(f"{len(tally.new_failures)} would now fail ({fields})")
    if tally.fixed:
        parts.append(f"{len(tally.fixed)} that failed would now succeed")
    parts += [_other_lead(entry) for entry in tally.other_lead[:3]]
    if len(tally.other_lead) > 3:
        parts.append(f"{len(tally.other_lead) - 3} more would write another lead")
    text = f"v{version} changes {changes} of {tally.examined} outcomes"
    text += (": " + ", ".join(parts)) if parts else ""
    if tally.held:
        held = ", ".join(f"{count} {after}" for after, count in sorted(tally.held.items()))
        text += f"; {sum(tally.held.values())} held events would: {held}"
    if tally.changed_fields:
        top = ", ".join(f"{name} on {count}" for name, count in tally.changed_fields.most_common(5))
        text += f"; {len(tally.changed_leads)} leads would get different field values ({top})"
    return text


def mapping_impact(
    session: Session,
    config: IngestionConfig,
    candidate: dict[str, Any],
    sample: int = DEFAULT_SAMPLE,
) -> dict[str, Any]:
    """The report on ``candidate`` over the config's ``sample`` most recent events, any status.

    MappingConfigError when the candidate does not compile. Reads only.
    """
    new = compile_mapping(candidate)
    saved = {
        version.number: version.mapping
        for version in session.scalars(
            select(MappingVersion).where(MappingVersion.config_id == config.id)
        )
    }
    compiled: dict[int, CompiledMapping] = {}

    def old_mapping(number: int | None) -> CompiledMapping:
        # An event from before versions were kept is read with the mapping the config has now.
        key = number if number in saved else config.mapping_version
        if key not in compiled:
            compiled[key] = compile_mapping(saved.get(key, config.mapping))
        return compiled[key]

    events = session.scalars(
        select(IngestionEvent)
        .where(IngestionEvent.config_id == config.id)
        .order_by(IngestionEvent.seq.desc())
        .limit(max(1, min(sample, MAX_SAMPLE)))
    )
    tally = _Tally()
    hygiene = load_hygiene(session, [config.organization_id])[config.organization_id]
    readable: list[tuple[IngestionEvent, PreparedLead, PreparedLead]] = []
    decoded_payloads: list[tuple[IngestionEvent, dict[str, Any]]] = []
    for event in events:
        payload = _payload(event)
        if payload is None:
            tally.unreadable += 1
            continue
        decoded_payloads.append((event, payload))
        was = prepare_lead(old_mapping(event.mapping_version), payload, hygiene)
        readable.append((event, was, prepare_lead(new, payload, hygiene)))
    # Each event is asked what it would do if it arrived now, against the leads as they stand.
    pending = [Pending(config, event, EventOrder.newest(), now) for event, _, now in readable]
    decisions = decide_read_only(session, config.organization_id, pending)
    for (event, was, now), decision in zip(readable, decisions, strict=True):
        _weigh(tally, event, was, now, decision)
    listed = (tally.new_failures + tally.fixed + tally.other_lead)[:MAX_LISTED]
    if new.decode:
        # With decode rules, the listed events show the payload as the candidate's rules see it.
        payloads = {str(event.id): payload for event, payload in decoded_payloads}
        for entry in listed:
            entry["payload"] = decoded_shape(new, payloads[entry["event"]])
    version = config.mapping_version + 1
    return {
        "version": version,
        "sample": tally.examined,
        "unreadable": tally.unreadable,
        "changed_outcomes": len(tally.new_failures) + len(tally.fixed) + len(tally.other_lead),
        "new_failures": len(tally.new_failures),
        "fixed": len(tally.fixed),
        "other_lead": len(tally.other_lead),
        "failed_fields": dict(tally.failed_fields.most_common()),
        "changed_fields": dict(tally.changed_fields.most_common()),
        "leads_with_changed_values": len(tally.changed_leads),
        "held": dict(sorted(tally.held.items())),
        "events": listed,
        "summary": _summary(version, tally),
    }


def impact_of_save(
    session: Session, config: IngestionConfig, mapping: dict[str, Any], sample: int = DEFAULT_SAMPLE
) -> dict[str, Any] | None:
    """The report on saving ``mapping`` over the config's; None when it is the mapping it has.

    A mapping that does not compile is MappingRefused, with every bad rule, as a save would be.
    """
    if mapping == config.mapping:
        return None
    validate_mapping(mapping)
    return mapping_impact(session, config, mapping, sample)


def needs_confirmation(report: dict[str, Any] | None) -> bool:
    """True when the report shows events that would newly fail: saving then needs a confirm."""
    return report is not None and report["new_failures"] > 0
