"""Parsing request bodies into payload objects; used by the webhook and, on replay, the worker."""

from __future__ import annotations

import codecs
import json
import re
import sys
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"
ACCEPTED_TYPES = (JSON_TYPE, FORM_TYPE, MULTIPART_TYPE)
# RFC 2046: a multipart boundary is 1 to 70 of these characters, not ending in a space.
MAX_BOUNDARY_LENGTH = 70
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]")
# What a body without a charset parameter is read as (RFC 8259 for JSON, WHATWG for forms).
DEFAULT_CHARSET = "utf-8"

# Bounds on a JSON body's shape, far above any real lead payload: they keep one request from
# costing a worker seconds of mapping time or megabytes of memory.
MAX_JSON_DEPTH = 32
MAX_JSON_NODES = 20_000

# The query parameter that controls waiting; it is never part of the payload.
CONTROL_PARAMETERS = frozenset({"wait"})


class PayloadError(ValueError):
    """A body that is not a JSON object or a form; the message says why."""


class FilePartError(PayloadError):
    """A multipart body with a file part, where files are refused; ``field`` names the part."""

    def __init__(self, field: str) -> None:
        super().__init__(
            f"the multipart field {field[:100]!r} is a file; this endpoint takes form fields only"
        )
        self.field = field


@dataclass(frozen=True)
class ParsedBody:
    """A body's payload, with notes on how it was read (recorded on the event as warnings)."""

    payload: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _content_type_header(content_type: str | None) -> Message:
    header = Message()
    header["Content-Type"] = content_type or ""
    return header


def _named_charset(content_type: str | None) -> str | None:
    return _content_type_header(content_type).get_content_charset()


def multipart_boundary(content_type: str | None) -> str:
    """The boundary a multipart Content-Type names; PayloadError when it is missing or too long."""
    boundary = _content_type_header(content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise PayloadError("a multipart/form-data body needs a boundary in its Content-Type")
    # RFC 2046's bchars only, so the boundary survives being quoted in the stored Content-Type.
    if len(boundary) > MAX_BOUNDARY_LENGTH or not _BOUNDARY.fullmatch(boundary):
        raise PayloadError(
            f"the multipart boundary must be 1 to {MAX_BOUNDARY_LENGTH} characters of "
            "letters, digits and '()+_,-./:=? (RFC 2046)"
        )
    return boundary


def body_charset(content_type: str | None) -> str:
    """The text encoding a Content-Type names, by its canonical name; PayloadError if unknown."""
    named = _named_charset(content_type)
    if not named:
        return DEFAULT_CHARSET
    try:
        name = codecs.lookup(named).name
        # bytes.decode refuses codecs that are not text encodings (base64, zlib, rot13).
        b"a".decode(name, "ignore")
    except LookupError:
        raise PayloadError(
            f"the Content-Type's charset {named[:40]!r} is not a known text encoding"
        ) from None
    except UnicodeError:
        pass  # a text encoding that has no "ignore" mode (idna): decoding will judge the body
    return name


def stored_content_type(content_type: str | None) -> str:
    """The media type, and its charset when one is named: what an event keeps to re-read it."""
    kind = media_type(content_type)
    # A multipart body cannot be split again without its boundary.
    boundary = f'; boundary="{multipart_boundary(content_type)}"' if kind == MULTIPART_TYPE else ""
    if _named_charset(content_type) is None:
        return kind + boundary
    # Canonical and short, so the event's column holds it whatever the header spelled.
    return f"{kind}; charset={body_charset(content_type)}{boundary}"


def _refuse_constant(name: str) -> Any:
    raise PayloadError(f"{name} is not valid JSON")


def _flatten(parsed: dict[str, list[str]]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, values in parsed.items():
        # A blank among repeated values is a form's empty second input, not a second value:
        # dropped before the key becomes a list, so "email=a@b.co&email=" is "a@b.co".
        filled = [value for value in values if value.strip()] or values[:1]
        flat[key] = filled[0] if len(filled) == 1 else filled
    return flat


def parse_form(text: str, charset: str = DEFAULT_CHARSET) -> dict[str, Any]:
    """Parse a form-encoded string into a flat object of strings (a repeated key: a list)."""
    try:
        parsed = parse_qs(
            text, keep_blank_values=True, strict_parsing=False, encoding=charset, errors="strict"
        )
    except UnicodeDecodeError as error:
        raise PayloadError(
            f"a percent-encoded value of the form is not valid {charset} "
            f"(byte 0x{error.object[error.start]:02x})"
        ) from None
    except UnicodeError:
        raise PayloadError(f"a percent-encoded value of the form is not valid {charset}") from None
    except ValueError as error:
        raise PayloadError(f"the form body does not parse: {error}") from None
    return _flatten(parsed)


def _decode(raw: bytes, charset: str) -> str:
    try:
        return raw.decode(charset)
    except UnicodeDecodeError as error:
        raise PayloadError(
            f"the body is not valid {charset}: byte 0x{raw[error.start]:02x} "
            f"at position {error.start}"
        ) from None
    except UnicodeError:
        raise PayloadError(f"the body is not valid {charset}") from None


def parse_json_value(text: str, what: str = "the body") -> Any:
    """Parse JSON text under the body's rules (no NaN, bounded shape); PayloadError says why."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise PayloadError(
            f"{what} is not valid JSON: {error.msg} at position {error.pos}"
        ) from None
    except RecursionError:
        raise PayloadError(f"{what} is nested too deeply") from None
    except PayloadError:
        raise
    except ValueError:  # an integer of more digits than int() converts (4300 by default)
        limit = sys.get_int_max_str_digits()
        raise PayloadError(f"{what} has an integer of more than {limit} digits") from None
    check_json_shape(value)
    return value


def _parse_json(text: str) -> dict[str, Any]:
    if not text.strip():
        raise PayloadError("the body is empty; send a JSON object")
    payload = parse_json_value(text)
    if not isinstance(payload, dict):
        raise PayloadError(f"the body must be a JSON object, not {type(payload).__name__}")
    return payload


def _json_object_or_none(text: str) -> dict[str, Any] | None:
    # Only a whole, valid JSON object counts: anything else stays a form, as labelled.
    if not text.lstrip().startswith("{"):
        return None
    try:
        return _parse_json(text)
    except PayloadError:
        return None


_READ_AS_JSON = {
    "field": "body",
    "reason": (
        f"the body was labelled {FORM_TYPE} but is a JSON object, so it was read as JSON; "
        f"send Content-Type: {JSON_TYPE}"
    ),
}


def read_body(raw: bytes, content_type: str | None, *, refuse_files: bool = False) -> ParsedBody:
    """Parse a JSON object or form body, with notes on how it was read; else PayloadError.

    A multipart body's file parts are dropped, or refused with FilePartError when
    ``refuse_files`` is set (the webhook decides per config; the worker re-reads only bodies the
    webhook took).
    """
    kind = media_type(content_type)
    if kind not in ACCEPTED_TYPES:
        raise PayloadError(f"content type {kind or '(none)'} is not accepted")
    charset = body_charset(content_type)
    if kind == MULTIPART_TYPE:
        fields = parse_multipart(raw, content_type, charset, refuse_files=refuse_files)
        check_json_shape(fields)
        return ParsedBody(fields)
    text = _decode(raw, charset)
    if kind == JSON_TYPE:
        return ParsedBody(_parse_json(text))
    # curl's --data without a Content-Type labels a JSON file as a form; what the sender meant
    # is plain, and reading it as a form would fail the event with a misleading error.
    as_json = _json_object_or_none(text)
    if as_json is not None:
        return ParsedBody(as_json, [dict(_READ_AS_JSON)])
    form = parse_form(text, charset)
    check_json_shape(form)
    return ParsedBody(form)


def parse_multipart(
    raw: bytes, content_type: str | None, charset: str = DEFAULT_CHARSET, *, refuse_files: bool
) -> dict[str, Any]:
    """A multipart/form-data body's fields as a flat object of strings, like a form's."""
    decoder = MultipartDecoder(
        multipart_boundary(content_type).encode("ascii"), max_parts=MAX_JSON_NODES
    )
    fields: dict[str, list[str]] = {}
    current: Field | File | None = None
    chunks: list[bytes] = []
    try:
        decoder.receive_data(raw)
        decoder.receive_data(None)
        event = decoder.next_event()
        while not isinstance(event, Epilogue | NeedData):
            if isinstance(event, File) and refuse_files:
                raise FilePartError(event.name)
            if isinstance(event, Field | File):
                current, chunks = event, []
            elif isinstance(event, Data) and isinstance(current, Field):
                chunks.append(event.data)
                if not event.more_data:
                    part_charset = _named_charset(current.headers.get("Content-Type")) or charset
                    value = _decode(b"".join(chunks), part_charset)
                    fields.setdefault(current.name, []).append(value)
            event = decoder.next_event()
    except RequestEntityTooLarge:
        raise PayloadError(f"the multipart body has more than {MAX_JSON_NODES} parts") from None
    except PayloadError:
        raise  # a refused file part, a part not in its charset: already says why
    except (ValueError, LookupError):
        # The parser's own message names its internal state, which helps no sender.
        raise PayloadError(
            "the multipart body does not parse: a part is malformed or the body ends before "
            "its closing boundary"
        ) from None
    if not isinstance(event, Epilogue):
        raise PayloadError("the multipart body ends before its closing boundary")
    if current is None:
        # RFC 2046 requires one part at least; a body of only a closing boundary is not a form.
        raise PayloadError("the multipart body has no parts")
    return _flatten(fields)


def parse_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse a JSON object or form body into its payload; anything else raises PayloadError."""
    return read_body(raw, content_type).payload


def check_json_shape(value: Any) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH or with more than MAX_JSON_NODES values."""
    nodes = 1
    # Only objects and arrays are visited; their scalars are counted by the container, a
    # fraction of the work on a flat payload (this runs on every accepted request).
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        current, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise PayloadError(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
        children = current.values() if isinstance(current, dict) else current
        nodes += len(children)
        if nodes > MAX_JSON_NODES:
            raise PayloadError(f"the body has more than {MAX_JSON_NODES} keys and values")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def merge_query(payload: dict[str, Any], query_string: str) -> dict[str, Any]:
    """Add query parameters the body does not have (the body's keys win); skip control ones."""
    if not query_string:
        return payload
    merged = dict(payload)
    for key, value in parse_form(query_string).items():
        if key not in CONTROL_PARAMETERS and key not in merged:
            merged[key] = value
    return merged


def payload_query_string(query_string: str, controls: frozenset[str] = CONTROL_PARAMETERS) -> str:
    """The query string without control parameters (``controls``), as stored with an event."""
    if not query_string:
        return ""
    # Names compare decoded, as merge_query reads them: "w%61it" is the control "wait" too.
    kept = [
        part
        for part in query_string.split("&")
        if part and unquote_plus(part.split("=", 1)[0]) not in controls
    ]
    return "&".join(kept)
