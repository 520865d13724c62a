"""The caller's organization's blocked identifiers and placeholder values."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from models import BlockedIdentifier
from webhook.auth import authenticate
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import DATABASE_INT_MAX, text_arg
from worker.blocked_identifiers import (
    DuplicateEntry,
    EntryError,
    add_entry,
    checked_entry,
    entries_statement,
    own_entry,
)
from worker.ingest.hygiene import KINDS
from worker.lead_payload import iso

bp = Blueprint("blocked_identifiers", __name__, url_prefix="/api/blocked-identifiers")

# An entry is a kind and a value of at most 255 characters; a larger body is refused unread.
MAX_BODY_BYTES = 4096


def blocked_identifier_json(row: BlockedIdentifier) -> dict[str, Any]:
    """An entry as the API returns it."""
    return {
        "id": row.id,
        "kind": row.kind,
        "value": row.value,
        "created_time": iso(row.created_time),
    }


def _body() -> dict[str, Any]:
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"The body is larger than the limit of {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON.", {"body": ["not valid JSON"]}) from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.", {"body": ["expected an object"]})
    unknown = sorted(key for key in body if key not in ("kind", "value"))
    if unknown:
        reason = f"unknown key; the keys are kind and value: {', '.join(unknown)}"
        raise ApiError(400, f"body: {reason}.", {"body": [reason]})
    return body


@bp.get("/")
def list_blocked_identifiers() -> Response:
    """The organization's entries, oldest first; ``kind`` filters."""
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    kind = text_arg("kind")
    if kind is not None and kind not in KINDS:
        reason = f"expected one of {', '.join(KINDS)}"
        raise ApiError(400, f"kind: {reason}.", {"kind": [reason]})
    statement = entries_statement(caller.organization_id, kind)
    return jsonify(paginate(session, statement, blocked_identifier_json))


@bp.post("/")
def create_blocked_identifier() -> Response:
    """Add an entry: a phone number, an email (or @domain) or a placeholder value."""
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    body = _body()
    try:
        entry = checked_entry(body.get("kind"), body.get("value"))
        row = add_entry(session, caller.organization_id, entry)
    except DuplicateEntry as error:
        raise ApiError(409, f"{error.field}: {error}.", {error.field: [str(error)]}) from None
    except EntryError as error:
        raise ApiError(400, f"{error.field}: {error}.", {error.field: [str(error)]}) from None
    session.commit()
    response = jsonify(blocked_identifier_json(row))
    response.status_code = 201
    return response


def _own(blocked_id: int) -> BlockedIdentifier:
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    row = (
        own_entry(session, caller.organization_id, blocked_id)
        if blocked_id <= DATABASE_INT_MAX
        else None
    )
    # Another organization's entry is reported as missing, so ids reveal nothing.
    if row is None:
        raise ApiError(404, "No such blocked identifier.")
    return row


@bp.get("/<int:blocked_id>/")
def get_blocked_identifier(blocked_id: int) -> Response:
    """One entry of the caller's organization."""
    return jsonify(blocked_identifier_json(_own(blocked_id)))


@bp.delete("/<int:blocked_id>/")
def delete_blocked_identifier(blocked_id: int) -> Response:
    """Remove an entry: the value is matched and stored again from the next event on."""
    row = _own(blocked_id)
    session = request_session()
    session.delete(row)
    session.commit()
    return Response(status=204)
