"""Reading the events list's filters from text: one parser for the query string, a JSON body and
the CLI.

Every reader hands over the filters as text values by name (a repeated query parameter gives
several); a JSON object is first turned into the same shape by ``texts_from_json``. Each value
is checked against what PostgreSQL can compare before it reaches a query: integers within the
integer columns' range, text without NUL characters, a payload filter jsonb can hold.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from common.payloads import PayloadError, check_json_shape
from models.enums import Endpoint, EventAction, EventStatus
from worker.event_search import EventFilter
from worker.ingest.jsonb import fits_jsonb

# Ids are PostgreSQL ``integer`` columns.
DATABASE_INT_MAX = 2**31 - 1
MAX_PAYLOAD_FILTER_CHARS = 10_000
FILTER_NAMES = (
    "config",
    "status",
    "action",
    "endpoint",
    "error_field",
    "lead",
    "since",
    "until",
    "idempotency_key",
    "payload_contains",
)
# Filters that take several values (repeated, comma-separated, or a JSON list).
MANY_VALUED = frozenset({"status", "action"})

FilterTexts = Mapping[str, Sequence[str]]
E = TypeVar("E", bound=Enum)


class FilterError(ValueError):
    """A filter that cannot be used: ``field`` names it, ``reason`` says why, ``detail`` in full."""

    def __init__(self, field: str, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or f"{field}: {reason}.")
        self.field = field
        self.reason = reason
        self.detail = detail or f"{field}: {reason}."


def _text(texts: FilterTexts, name: str) -> str | None:
    values = texts.get(name) or ()
    raw = values[0] if values else None
    if not raw:
        return None
    if "\x00" in raw:
        raise FilterError(
            name, "contains a NUL character", f"{name} must not contain NUL characters."
        )
    return raw


def _enums(texts: FilterTexts, name: str, enum_type: type[E]) -> tuple[E, ...]:
    raw = [part.strip() for value in texts.get(name) or () for part in value.split(",")]
    chosen: list[E] = []
    for value in filter(None, raw):
        try:
            chosen.append(enum_type(value.lower()))
        except ValueError:
            choices = ", ".join(str(member.value) for member in enum_type)
            raise FilterError(name, f"{value!r} is not one of {choices}") from None
    return tuple(dict.fromkeys(chosen))


def _enum(texts: FilterTexts, name: str, enum_type: type[E]) -> E | None:
    raw = _text(texts, name)
    if raw is None:
        return None
    try:
        return enum_type(raw.strip().lower())
    except ValueError:
        choices = ", ".join(str(member.value) for member in enum_type)
        raise FilterError(name, f"one of {choices}", f"Unknown {name} {raw!r}.") from None


def _uuid(texts: FilterTexts, name: str) -> uuid.UUID | None:
    raw = _text(texts, name)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise FilterError(name, "not a UUID") from None


def _int(texts: FilterTexts, name: str) -> int | None:
    raw = _text(texts, name)
    if raw is None:
        return None
    try:
        # Decimal reads "2", "2.0" and "2e3" alike and keeps a huge exponent symbolic until
        # the range check has refused it.
        number = Decimal(raw.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        raise FilterError(name, "not an integer", f"{name} must be an integer.")
    if not 1 <= number <= DATABASE_INT_MAX:
        reason = f"must be between 1 and {DATABASE_INT_MAX}"
        raise FilterError(name, reason, f"{name} {reason}.")
    return int(number)


def _datetime(texts: FilterTexts, name: str) -> dt.datetime | None:
    raw = _text(texts, name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise FilterError(name, "not a datetime", f"{name} must be an ISO 8601 datetime.") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _payload_contains(texts: FilterTexts) -> dict[str, Any]:
    name = "payload_contains"
    raw = _text(texts, name)
    if raw is None:
        return {}
    if len(raw) > MAX_PAYLOAD_FILTER_CHARS:
        raise FilterError(name, f"longer than {MAX_PAYLOAD_FILTER_CHARS} characters")
    try:
        wanted = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise FilterError(name, "not valid JSON") from None
    if not isinstance(wanted, dict):
        raise FilterError(name, "must be a JSON object")
    try:
        check_json_shape(wanted)  # no deeper or larger than any payload may be
    except PayloadError as error:
        raise FilterError(name, str(error).replace("the body", "it")) from None
    # jsonb holds neither U+0000 nor infinities (1e999 reads as one): no payload has them.
    if not fits_jsonb(wanted):
        raise FilterError(name, "holds a value no payload can (NUL, 1e999)")
    return wanted


def parse_event_filter(texts: FilterTexts) -> EventFilter:
    """The filter the texts describe; FilterError names the first one that is not valid."""
    return EventFilter(
        config=_uuid(texts, "config"),
        statuses=_enums(texts, "status", EventStatus),
        actions=_enums(texts, "action", EventAction),
        endpoint=_enum(texts, "endpoint", Endpoint),
        error_field=_text(texts, "error_field"),
        lead=_int(texts, "lead"),
        since=_datetime(texts, "since"),
        until=_datetime(texts, "until"),
        idempotency_key=_text(texts, "idempotency_key"),
        payload_contains=_payload_contains(texts),
    )


def _json_text(name: str, value: Any) -> str:
    """One JSON value of a filter as the text a query string would carry; its type is checked.

    JSON says "no filter" with null or by leaving the key out, so an empty string is refused
    (a query string's empty value, as an HTML form sends it, is no filter instead).
    """
    if name == "payload_contains":
        if not isinstance(value, dict):
            raise FilterError(name, "must be a JSON object")
        return json.dumps(value)
    if name == "lead":
        # JSON Schema counts 2.0 as an integer too.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FilterError(name, f"must be an integer, not {_json_type(value)}")
        return str(value)
    if not isinstance(value, str):
        raise FilterError(name, f"must be a string, not {_json_type(value)}")
    if not value:
        raise FilterError(name, "empty; leave the filter out (or null) to not filter by it")
    return value


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "an object"}
    return names.get(type(value), "null")


def texts_from_json(body: object) -> dict[str, list[str]]:
    """A JSON filter object as texts by name; FilterError for an unknown or mistyped filter."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise FilterError("filter", "must be a JSON object")
    texts: dict[str, list[str]] = {}
    for name, value in body.items():
        if name not in FILTER_NAMES:
            raise FilterError(name, f"not a filter; the filters are {', '.join(FILTER_NAMES)}")
        if value is None:
            continue
        if isinstance(value, list):
            if name not in MANY_VALUED:
                raise FilterError(name, "takes one value, not a list")
            texts[name] = [_json_text(name, item) for item in value]
        else:
            texts[name] = [_json_text(name, value)]
    return texts


def filter_as_json(wanted: EventFilter) -> dict[str, Any]:
    """The filter as a JSON object ``texts_from_json`` reads back; filters not set are left out."""
    shown: dict[str, Any] = {
        "config": str(wanted.config) if wanted.config else None,
        "status": [status.value for status in wanted.statuses] or None,
        "action": [action.value for action in wanted.actions] or None,
        "endpoint": wanted.endpoint.value if wanted.endpoint else None,
        "error_field": wanted.error_field,
        "lead": wanted.lead,
        "since": wanted.since.isoformat() if wanted.since else None,
        "until": wanted.until.isoformat() if wanted.until else None,
        "idempotency_key": wanted.idempotency_key,
        "payload_contains": wanted.payload_contains or None,
    }
    return {name: value for name, value in shown.items() if value is not None}
