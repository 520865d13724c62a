"""Parsing request bodies into payload objects; used by the webhook and, on replay, the worker."""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import parse_qs

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
ACCEPTED_TYPES = (JSON_TYPE, FORM_TYPE)

# Bounds on a JSON body's shape, far above any real lead payload: they keep one request from
# costing a worker seconds of mapping time or megabytes of memory.
MAX_JSON_DEPTH = 32
MAX_JSON_NODES = 20_000

# The query parameter that controls waiting; it is never part of the payload.
CONTROL_PARAMETERS = frozenset({"wait"})


class PayloadError(ValueError):
    """A body that is not a JSON object or a form; the message says why."""


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _refuse_constant(name: str) -> Any:
    raise PayloadError(f"{name} is not valid JSON")


def _flatten(parsed: dict[str, list[str]]) -> dict[str, Any]:
    # A repeated key gives a list of strings; a single one gives the string itself.
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def parse_form(text: str) -> dict[str, Any]:
    """Parse a form-encoded string into a flat object of strings."""
    try:
        parsed = parse_qs(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"the form body does not parse: {error}") from None
    return _flatten(parsed)


def parse_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse a JSON object or form body; anything else raises PayloadError."""
    kind = media_type(content_type)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("the body is not valid UTF-8") from None
    if kind == FORM_TYPE:
        form = parse_form(text)
        check_json_shape(form)
        return form
    if kind != JSON_TYPE:
        raise PayloadError(f"content type {kind or '(none)'} is not accepted")
    if not text.strip():
        raise PayloadError("the body is empty; send a JSON object")
    try:
        payload = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise PayloadError(
            f"the body is not valid JSON: {error.msg} at position {error.pos}"
        ) from None
    except RecursionError:
        raise PayloadError("the body is nested too deeply") from None
    except ValueError:  # an integer of more digits than int() converts (4300 by default)
        limit = sys.get_int_max_str_digits()
        raise PayloadError(f"the body has an integer of more than {limit} digits") from None
    if not isinstance(payload, dict):
        raise PayloadError(f"the body must be a JSON object, not {type(payload).__name__}")
    check_json_shape(payload)
    return payload


def check_json_shape(value: Any) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH or with more than MAX_JSON_NODES values."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        nodes += 1
        if nodes > MAX_JSON_NODES:
            raise PayloadError(f"the body has more than {MAX_JSON_NODES} keys and values")
        if isinstance(current, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise PayloadError(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children)


def merge_query(payload: dict[str, Any], query_string: str) -> dict[str, Any]:
    """Add query parameters the body does not have (the body's keys win); skip control ones."""
    if not query_string:
        return payload
    merged = dict(payload)
    for key, value in parse_form(query_string).items():
        if key not in CONTROL_PARAMETERS and key not in merged:
            merged[key] = value
    return merged


def payload_query_string(query_string: str) -> str:
    """The query string without control parameters, as stored with an event."""
    if not query_string:
        return ""
    kept = [
        part
        for part in query_string.split("&")
        if part and part.split("=", 1)[0] not in CONTROL_PARAMETERS
    ]
    return "&".join(kept)
