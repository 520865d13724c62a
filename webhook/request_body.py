"""Reading an ingestion request's body: size limit, content type, syntax."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request

from common.payloads import (
    ACCEPTED_TYPES,
    CONTROL_PARAMETERS,
    FilePartError,
    PayloadError,
    check_json_shape,
    media_type,
    merge_query,
    payload_query_string,
    read_body,
    stored_content_type,
)
from webhook.errors import ApiError


@dataclass(frozen=True)
class IncomingPayload:
    """A request's body as received and as parsed (query parameters merged in)."""

    raw_body: bytes
    content_type: str
    query_string: str
    payload: dict[str, Any]
    body: dict[str, Any]  # the body's payload alone, before the query parameters joined it


def _read_limited(limit: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit:
        # Refuse on the declared length, before reading a byte of the body.
        raise ApiError(413, f"The body is larger than the limit of {limit} bytes.")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, f"The body is larger than the limit of {limit} bytes.")
    return raw


def _sentence(reason: str) -> str:
    # str.capitalize would lower-case the rest ("JSON" → "json").
    return reason[:1].upper() + reason[1:] + "."


def read_payload(
    limit: int,
    controls: frozenset[str] = CONTROL_PARAMETERS,
    *,
    refuse_files: bool = True,
    verify_raw: Callable[[bytes], None] | None = None,
) -> IncomingPayload:
    """Read and parse the body; 413, 415 or 400 with a reason when it cannot be taken.

    Query parameters named in ``controls`` steer the request and never join the payload.
    ``verify_raw`` sees the exact bytes received before anything parses them (a signature
    check); a multipart file part is a 415 naming its field unless ``refuse_files`` is off.
    """
    kind = media_type(request.content_type)
    if kind not in ACCEPTED_TYPES:
        raise ApiError(
            415,
            f"Content type {kind or '(none)'} is not accepted; send application/json, "
            "application/x-www-form-urlencoded or multipart/form-data.",
        )
    raw = _read_limited(limit)
    if verify_raw is not None:
        verify_raw(raw)
    try:
        # The same parser the worker runs on the stored body, charset and all.
        content_type = stored_content_type(request.content_type)
        body = read_body(raw, content_type, refuse_files=refuse_files).payload
    except FilePartError as error:
        raise ApiError(
            415, _sentence(str(error)), {error.field: ["files are not accepted"]}
        ) from None
    except PayloadError as error:
        raise ApiError(400, _sentence(str(error))) from None
    query_string = payload_query_string(request.query_string.decode("utf-8", "replace"), controls)
    if "\x00" in query_string:
        # HTTP servers refuse a raw NUL in the request line; a WSGI caller may still pass one,
        # and the event's text column cannot hold it.
        raise ApiError(400, "The query string contains a NUL character.")
    try:
        payload = merge_query(body, query_string)
    except PayloadError as error:
        raise ApiError(400, f"The query string does not parse: {error}.") from None
    if query_string:
        # The body's limits hold for the payload the worker will map, query parameters and all.
        try:
            check_json_shape(payload)
        except PayloadError as error:
            raise ApiError(400, f"With the query string merged in, {error}.") from None
    return IncomingPayload(raw, content_type, query_string, payload, body)
