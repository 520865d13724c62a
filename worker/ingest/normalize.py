"""Normalize one mapped value for its target: a standard lead field, ``metadata.KEY`` or
``min_reengagement_days``. Every function raises ValueError with a message a person can act on."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Callable
from typing import Any

from models.enums import LeadStatus, StatusOutcome, StatusReason
from worker.ingest.conversions import convert, shown, to_boolean, to_datetime, to_integer
from worker.ingest.emails import normalize_email
from worker.ingest.lead_fields import (
    CONSENT_KEYS,
    CONSENT_PREFIX,
    METADATA_PREFIX,
    MIN_REENGAGEMENT_DAYS,
    TEXT_MAX_LENGTH,
    WRITABLE_FIELDS,
    FieldKind,
)
from worker.ingest.phones import normalize_phone
from worker.ingest.states import normalize_state

# PostgreSQL integer columns.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
# Beyond a century "never reengage" is meant; the cap keeps date arithmetic from overflowing.
MAX_REENGAGEMENT_DAYS = 36_500


def _text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected text, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected text, got {shown(value)}")
    text = value.strip() if isinstance(value, str) else str(value)
    if len(text) > TEXT_MAX_LENGTH:
        raise ValueError(
            f"{shown(text)} is {len(text)} characters long; at most {TEXT_MAX_LENGTH} are allowed"
        )
    return text


def _enum_parser(enum_cls: type[enum.StrEnum], label: str) -> Callable[[object], enum.StrEnum]:
    members = {member.value.casefold(): member for member in enum_cls}
    choices = ", ".join(member.value for member in enum_cls)

    def parse(value: object) -> enum.StrEnum:
        member = members.get(value.strip().casefold()) if isinstance(value, str) else None
        if member is None:
            raise ValueError(f"{shown(value)} is not a {label}; expected one of {choices}")
        return member

    return parse


def _integer(value: object, minimum: int = _INT_MIN, maximum: int = _INT_MAX) -> int:
    try:
        number = to_integer(value)
    except ValueError:
        raise ValueError(f"{shown(value)} is not a whole number") from None
    if not minimum <= number <= maximum:
        raise ValueError(f"{number} is out of range ({minimum} to {maximum})")
    return number


def _boolean(value: object) -> bool:
    try:
        return to_boolean(value)
    except ValueError:
        raise ValueError(
            f"{shown(value)} is not a yes/no value (true/false, yes/no, y/n, 1/0, on/off)"
        ) from None


def _datetime(value: object) -> dt.datetime:
    try:
        return to_datetime(value)
    except ValueError:
        raise ValueError(f"{shown(value)} is not an ISO 8601 date and time") from None


_NORMALIZERS: dict[FieldKind, Callable[[object], Any]] = {
    FieldKind.PHONE: normalize_phone,
    FieldKind.EMAIL: normalize_email,
    FieldKind.TEXT: _text,
    FieldKind.US_STATE: normalize_state,
    FieldKind.LEAD_STATUS: _enum_parser(LeadStatus, "lead status"),
    FieldKind.STATUS_OUTCOME: _enum_parser(StatusOutcome, "status outcome"),
    FieldKind.STATUS_REASON: _enum_parser(StatusReason, "status reason"),
    FieldKind.INTEGER: _integer,
    FieldKind.ROW_ID: lambda value: _integer(value, minimum=1),
    FieldKind.BOOLEAN: _boolean,
    FieldKind.DATETIME: _datetime,
}


def normalize_field(name: str, value: object) -> Any:
    """The normalized value of standard lead field ``name`` (E.164, code, enum member, ...)."""
    normalized = _NORMALIZERS[WRITABLE_FIELDS[name]](value)
    if isinstance(normalized, str):
        check_storable(normalized)
    return normalized


def normalize_min_reengagement_days(value: object) -> int:
    """A whole number of days from 0 to MAX_REENGAGEMENT_DAYS."""
    return _integer(value, minimum=0, maximum=MAX_REENGAGEMENT_DAYS)


def normalize_metadata_value(value: object) -> Any:
    """A value ready for the lead's JSONB metadata: datetimes as ISO 8601 text, the rest as is."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    check_storable(value)
    return value


def normalize_target(target: str, value: object) -> Any:
    """Normalize ``value`` for a mapping target: a standard field, metadata.KEY or the days."""
    if target == MIN_REENGAGEMENT_DAYS:
        return normalize_min_reengagement_days(value)
    if target.startswith(METADATA_PREFIX):
        return normalize_metadata_value(value)
    if target.startswith(CONSENT_PREFIX):
        normalized = _NORMALIZERS[CONSENT_KEYS[target.removeprefix(CONSENT_PREFIX)]](value)
        if isinstance(normalized, str):
            check_storable(normalized)
        return normalized
    return normalize_field(target, value)


def convert_and_normalize(target: str, type_name: str | None, value: object, origin: str) -> Any:
    """Convert ``value`` to a rule's ``type`` (if it has one), then normalize it for ``target``."""
    if type_name is not None:
        value = convert(type_name, value, origin)
    return normalize_target(target, value)


def check_storable(value: object) -> None:
    """Refuse what PostgreSQL text and JSONB cannot hold: NUL, lone surrogates, NaN, Infinity."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError(f"{shown(item)} contains a NUL character, which cannot be stored")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{shown(item)} is not valid Unicode text") from None
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{item} cannot be stored (JSON has no NaN or Infinity)")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
