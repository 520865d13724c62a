"""Lead types in the pipeline: which are in play, and a lead's metadata checked against one.

A lead type declares metadata fields (``{key, label, helpText, type, required}``, Sela's names).
A lead's metadata is checked against its lead type's fields with the mapping language's type
rules (``worker.ingest.conversions``): a value that does not convert, or a required key missing
on create, is an error named ``metadata.KEY``; a value that converts is stored converted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from models import LeadType
from worker.ingest.conversions import TYPE_NAMES, convert, is_blank, shown
from worker.ingest.lead_fields import METADATA_PREFIX
from worker.ingest.normalize import normalize_metadata_value
from worker.ingest.types import FieldError

_FIELD_KEYS = ("key", "label", "helpText", "type", "required")


@dataclass(frozen=True)
class MetadataField:
    """One declared metadata field: its key, its type and whether a new lead must have it."""

    key: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class LeadTypeRules:
    """What the pipeline needs of a lead type: its id, campaign and declared fields."""

    id: int
    campaign_id: int
    fields: tuple[MetadataField, ...] = ()


@dataclass
class LeadTypesInPlay:
    """The lead types of one organization that a set of events can name or fall back on.

    ``known`` holds every id that was asked for and exists; ``default`` is the organization's
    default lead type when it was asked for.
    """

    known: dict[int, LeadTypeRules] = field(default_factory=dict)
    default: LeadTypeRules | None = None

    def get(self, lead_type_id: int | None) -> LeadTypeRules | None:
        """The lead type with this id, if it is one of the organization's."""
        return None if lead_type_id is None else self.known.get(lead_type_id)


def parse_metadata_fields(value: object) -> list[dict[str, Any]]:
    """A lead type's ``lead_metadata_fields`` checked; ValueError lists every problem."""
    if not isinstance(value, list):
        raise ValueError(f"lead_metadata_fields: expected a list, got {type(value).__name__}")
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"lead_metadata_fields[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object, got {type(item).__name__}")
            continue
        problems += [
            f"{where}: unknown key {key!r} (keys: {', '.join(_FIELD_KEYS)})"
            for key in item
            if key not in _FIELD_KEYS
        ]
        key = item.get("key")
        if not isinstance(key, str) or not key.strip():
            problems.append(f"{where}.key: expected non-empty text, got {shown(key)}")
        elif key in seen:
            problems.append(f"{where}.key: {key!r} is declared twice")
        else:
            seen.add(key)
        if item.get("type") not in TYPE_NAMES:
            got = shown(item.get("type"))
            problems.append(f"{where}.type: expected one of {', '.join(TYPE_NAMES)}, got {got}")
        if not isinstance(item.get("required", False), bool):
            problems.append(f"{where}.required: expected true or false")
        for text_key in ("label", "helpText"):
            if not isinstance(item.get(text_key, ""), str):
                problems.append(f"{where}.{text_key}: expected text")
    if problems:
        raise ValueError("; ".join(problems))
    return [dict(item) for item in value]


def rules_of(lead_type: LeadType) -> LeadTypeRules:
    """The pipeline's view of a lead type row."""
    fields = tuple(
        MetadataField(item["key"], item["type"], bool(item.get("required", False)))
        for item in lead_type.lead_metadata_fields or []
    )
    return LeadTypeRules(lead_type.id, lead_type.campaign_id, fields)


def load_lead_types(
    session: Session, organization_id: int, ids: Iterable[int | None], with_default: bool
) -> LeadTypesInPlay:
    """The organization's lead types among ``ids`` (and its default), in one query at most.

    No query at all when nothing is asked: events of configs without lead types pay nothing.
    """
    wanted = sorted({lead_type_id for lead_type_id in ids if lead_type_id is not None})
    if not wanted and not with_default:
        return LeadTypesInPlay()
    conditions: list[ColumnElement[bool]] = [LeadType.id.in_(wanted)] if wanted else []
    if with_default:
        conditions.append(LeadType.is_default.is_(True))
    rows = session.scalars(
        select(LeadType).where(LeadType.organization_id == organization_id, or_(*conditions))
    ).all()
    found = LeadTypesInPlay({row.id: rules_of(row) for row in rows})
    found.default = next((found.known[row.id] for row in rows if row.is_default), None)
    return found


def unknown_lead_type(lead_type_id: int) -> FieldError:
    """The error for a lead type the organization does not have."""
    return FieldError("lead_type", f"lead type {lead_type_id} does not exist in this organization")


def checked_metadata(
    metadata: dict[str, Any], lead_type: LeadTypeRules, creating: bool
) -> tuple[dict[str, Any], list[FieldError]]:
    """The metadata with declared keys converted to their types, and the errors found.

    ``metadata`` is what the event writes (on create, the new lead's whole metadata); a key the
    event does not give is checked only for ``required`` and only on create.
    """
    converted = dict(metadata)
    errors: list[FieldError] = []
    for declared in lead_type.fields:
        name = f"{METADATA_PREFIX}{declared.key}"
        value = metadata.get(declared.key)
        if is_blank(value):
            if creating and declared.required:
                errors.append(
                    FieldError(name, f"required by lead type {lead_type.id}; no value was given")
                )
            continue
        try:
            converted[declared.key] = normalize_metadata_value(convert(declared.type, value, name))
        except ValueError as error:
            errors.append(FieldError(name, str(error)))
    return converted, errors
