"""The events list's query parameters, read into the filter the worker's search defines."""

from __future__ import annotations

import json
import string
import uuid
from enum import Enum
from typing import TypeVar
from urllib.parse import quote

from flask import request
from sqlalchemy import ColumnElement

from common.payloads import PayloadError, check_json_shape
from models.enums import Endpoint, EventAction, EventStatus
from webhook.errors import ApiError
from webhook.query_args import datetime_arg, enum_arg, int_arg, text_arg
from worker.event_search import EventFilter, event_conditions
from worker.ingest.jsonb import fits_jsonb

# The header that carries a stored payload's query string (percent-encoded where needed).
QUERY_STRING_HEADER = "X-Query-String"
# Printable ASCII but whitespace: what a header value may hold as it is.
_HEADER_SAFE = "".join(c for c in string.printable if c not in string.whitespace)
MAX_PAYLOAD_FILTER_CHARS = 10_000

E = TypeVar("E", bound=Enum)


def header_safe(text: str) -> str:
    """``text`` with anything a header cannot carry percent-encoded."""
    return quote(text, safe=_HEADER_SAFE)


def _refuse(name: str, reason: str) -> ApiError:
    return ApiError(400, f"{name}: {reason}.", {name: [reason]})


def _enums(name: str, enum_type: type[E]) -> tuple[E, ...]:
    """Every value of a repeated or comma-separated parameter, as members of ``enum_type``."""
    raw = [part.strip() for value in request.args.getlist(name) for part in value.split(",")]
    chosen: list[E] = []
    for value in filter(None, raw):
        try:
            chosen.append(enum_type(value.lower()))
        except ValueError:
            choices = ", ".join(str(member.value) for member in enum_type)
            raise _refuse(name, f"{value!r} is not one of {choices}") from None
    return tuple(dict.fromkeys(chosen))


def _uuid_arg(name: str) -> uuid.UUID | None:
    raw = text_arg(name)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise _refuse(name, "not a UUID") from None


def _payload_contains() -> dict[str, object]:
    raw = text_arg("payload_contains")
    if raw is None:
        return {}
    if len(raw) > MAX_PAYLOAD_FILTER_CHARS:
        raise _refuse("payload_contains", f"longer than {MAX_PAYLOAD_FILTER_CHARS} characters")
    try:
        wanted = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise _refuse("payload_contains", "not valid JSON") from None
    if not isinstance(wanted, dict):
        raise _refuse("payload_contains", "must be a JSON object")
    try:
        check_json_shape(wanted)  # no deeper or larger than any payload may be
    except PayloadError as error:
        raise _refuse("payload_contains", str(error).replace("the body", "it")) from None
    # jsonb holds neither U+0000 nor infinities (1e999 reads as one): no payload has them.
    if not fits_jsonb(wanted):
        raise _refuse("payload_contains", "holds a value no payload can (NUL, 1e999)")
    return wanted


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def event_filters() -> list[ColumnElement[bool]]:
    """The request's filters as SQL conditions; a bad one is a 400 that names it."""
    since, until = datetime_arg("since"), datetime_arg("until")
    wanted = EventFilter(
        config=_uuid_arg("config"),
        statuses=_enums("status", EventStatus),
        actions=_enums("action", EventAction),
        endpoint=enum_arg("endpoint", Endpoint),
        error_field=text_arg("error_field"),
        lead=int_arg("lead"),
        since=since,
        until=until,
        idempotency_key=text_arg("idempotency_key"),
        payload_contains=_payload_contains(),
    )
    return event_conditions(wanted)
