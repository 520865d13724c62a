"""Field provenance: what an applied event changed on a lead, field by field, as JSON values."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from worker.ingest.apply import LeadValues

# Model attribute → the lead's JSON field name, where they differ.
_FIELD = {"campaign_id": "campaign", "representative_id": "representative"}
METADATA_ATTRIBUTE = "lead_metadata"
# The DNC flags, by the channel the ledger names them with.
DNC_CHANNELS = {"sms_dnc": "sms", "call_dnc": "call"}
# Bookkeeping written beside the fields, not a field of the lead.
_NOT_FIELDS = frozenset({"field_times"})


def json_value(value: Any) -> Any:
    """A stored value as JSON holds it: a datetime in ISO 8601, an enum by its value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def field_changes(before: LeadValues, after: LeadValues) -> list[tuple[str, Any, Any]]:
    """``(field, old, new)`` for each attribute ``after`` changes; metadata key by key.

    ``before`` holds the lead's values before the write (empty for a lead being created);
    ``after`` the attributes the write sets.
    """
    changes: list[tuple[str, Any, Any]] = []
    for attribute, new in after.items():
        if attribute in _NOT_FIELDS:
            continue
        old = before.get(attribute)
        if attribute == METADATA_ATTRIBUTE:
            changes += _metadata_changes(old or {}, new or {})
        elif old != new:
            changes.append((_FIELD.get(attribute, attribute), json_value(old), json_value(new)))
    return changes


def _metadata_changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [
        (f"metadata.{key}", old.get(key), new.get(key))
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]
