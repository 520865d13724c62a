"""The dry run: what an upsert of a payload would do, without writing anything."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy.orm import Session

from models import IngestionConfig
from worker.ingest.mapping import compiled_mapping_for
from worker.ingest.matching import load_leads, match_for_upsert
from worker.ingest.pipeline import check_references
from worker.ingest.prepare import prepare_lead
from worker.ingest.types import FieldError


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def dry_run_payload(
    session: Session, config: IngestionConfig, payload: dict[str, Any]
) -> dict[str, Any]:
    """Map, validate and match ``payload`` as an upsert would; the session is only read."""
    mapping = compiled_mapping_for(config.id, config.version, config.mapping)
    prepared = prepare_lead(mapping, payload)
    check_references(session, config.organization_id, [prepared])
    lead_fields = {key: _json_value(value) for key, value in prepared.values.items()}
    lead_fields["metadata"] = prepared.metadata
    answer: dict[str, Any] = {
        "would": "fail",
        "lead_id": None,
        "matched_by": None,
        "lead": lead_fields,
        "errors": [error.as_dict() for error in prepared.errors],
        "warnings": [],
    }
    if prepared.errors:
        return answer
    leads = load_leads(session, config.organization_id, [prepared.values])
    result = match_for_upsert(leads, config.organization_id, prepared.values, config.match_keys)
    answer["warnings"] = result.warnings
    if result.lead is not None:
        answer.update(would="update", lead_id=result.lead.id, matched_by=result.matched_by)
    elif prepared.values.get("phone_number") is None:
        error = FieldError("phone_number", "a phone number is required to create a lead")
        answer["errors"] = [error.as_dict()]
    else:
        answer["would"] = "create"
    return answer
