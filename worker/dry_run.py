"""The dry run: what an event with a payload would do, told by the worker's own decision."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy.orm import Session

from models import IngestionConfig
from models.enums import Endpoint, EventAction
from worker.blocked_identifiers import load_hygiene
from worker.ingest.apply import LeadValues
from worker.ingest.decision import Decision, EventOrder, decide
from worker.ingest.fan_in_store import load_fan_in, longest_window
from worker.ingest.lead_fields import METADATA
from worker.ingest.lead_types import load_lead_types
from worker.ingest.mapping import compile_mapping, compiled_mapping_for
from worker.ingest.matching import load_leads
from worker.ingest.prepare import decode_payload, prepare_lead
from worker.ingest.references import with_reference_errors
from worker.ingest.types import PreparedLead
from worker.payload_view import decoded_shape

# The dry run's verb for each action the worker records.
WOULD: dict[EventAction, str] = {
    EventAction.created: "create",
    EventAction.updated: "update",
    EventAction.unchanged: "unchanged",
    EventAction.duplicate: "duplicate",
    EventAction.reengaged: "reengage",
    EventAction.stale: "stale",
}
WOULD_FAIL = "fail"
WOULD_VALUES: tuple[str, ...] = (*WOULD.values(), WOULD_FAIL)

# Model attribute → JSON field name, where they differ.
_FIELD_NAME = {
    "lead_metadata": "metadata",
    "campaign_id": "campaign",
    "representative_id": "representative",
}


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _as_fields(values: LeadValues) -> dict[str, Any]:
    return {_FIELD_NAME.get(key, key): _json_value(value) for key, value in values.items()}


def _mapped_fields(prepared: PreparedLead) -> dict[str, Any]:
    fields = {key: _json_value(value) for key, value in prepared.values.items()}
    fields[METADATA] = prepared.metadata
    return fields


def dry_run_payload(
    session: Session,
    config: IngestionConfig,
    payload: dict[str, Any],
    *,
    endpoint: str = "upsert",
    mapping: dict[str, Any] | None = None,
    test: bool = False,
) -> dict[str, Any]:
    """What an event of ``payload`` on ``endpoint`` would do now; the session is only read.

    ``mapping`` is a candidate mapping used instead of the config's, compiled (and refused
    with MappingConfigError) like a saved one, and never saved or cached. ``lead`` in the
    answer is the lead as it would be stored (on a failure, the payload's mapped fields);
    ``changed`` names the fields the event would change. ``test`` (or the config marked
    test) answers for a test-mode event, which sees only test leads.
    """
    is_test = test or config.test
    if mapping is None:
        compiled = compiled_mapping_for(config.id, config.version, config.mapping)
    else:
        compiled = compile_mapping(mapping)
    hygiene = load_hygiene(session, [config.organization_id])[config.organization_id]
    [prepared] = with_reference_errors(
        session, config.organization_id, [prepare_lead(compiled, payload, hygiene)]
    )
    leads = load_leads(
        session, config.organization_id, [] if prepared.errors else [prepared.values]
    )
    lead_types = load_lead_types(
        session,
        config.organization_id,
        [
            prepared.values.get("lead_type"),
            config.default_lead_type,
            *(lead.lead_type for lead in leads),
        ],
        with_default=config.standard_api,
    )
    order = EventOrder.newest()
    fan_in = load_fan_in(
        session,
        config.organization_id,
        [prepared.values],
        order.received_time - longest_window([config]),
    )
    decision = decide(
        prepared,
        leads,
        config,
        Endpoint(endpoint),
        order,
        lead_types,
        fan_in=fan_in,
        is_test=is_test,
    )
    answer = _answer(decision, prepared)
    answer["is_test"] = is_test
    # The payload as the rules saw it (after ``decode``); the raw one is what was sent.
    answer["payload"] = decoded_shape(compiled, payload)
    if compiled.decode:
        # What the rules saw: each decoded key's value as parsed (a bad one is in the errors).
        decoded = decode_payload(PreparedLead(), compiled, payload)
        answer["decoded"] = {key: decoded[key] for key in compiled.decode if key in decoded}
    return answer


def would_write(decision: Decision, prepared: PreparedLead) -> dict[str, Any]:
    """The fields the event would write, as JSON; for a failure, what its payload maps to."""
    if decision.action is None:
        return _mapped_fields(prepared)
    return _as_fields(decision.values)


def _answer(decision: Decision, prepared: PreparedLead) -> dict[str, Any]:
    if decision.action is None:
        would, lead, changed = WOULD_FAIL, _mapped_fields(prepared), []
    else:
        would = WOULD[decision.action]
        lead = _as_fields(decision.stored_values())
        changed = [] if decision.lead is None else sorted(_as_fields(decision.values))
    return {
        "would": would,
        "lead_id": decision.lead.id if decision.lead is not None else None,
        "matched_by": decision.matched_by,
        "lead": lead,
        "changed": changed,
        "errors": [error.as_dict() for error in decision.errors],
        "warnings": decision.warnings,
        "match_explanation": [key.as_dict() for key in decision.explanation],
    }
