"""The caller's organization's quarantined identifiers (fan-in), and releasing one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from models import QuarantinedIdentifier
from webhook.auth import authenticate
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import DATABASE_INT_MAX
from worker.ingest.fan_in_store import own_quarantine, quarantine_statement, release
from worker.lead_payload import iso

bp = Blueprint("quarantine", __name__, url_prefix="/api/quarantined-identifiers")


def quarantined_json(row: QuarantinedIdentifier) -> dict[str, Any]:
    """A quarantined identifier as the API returns it."""
    return {
        "id": row.id,
        "kind": row.kind,
        "value": row.value,
        "claimants": row.claimants,
        "quarantined_time": iso(row.quarantined_time),
    }


@bp.get("/")
def list_quarantined() -> Response:
    """The organization's quarantined phone numbers and emails, newest first."""
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    statement = quarantine_statement(caller.organization_id)
    return jsonify(paginate(session, statement, quarantined_json))


def _own(quarantined_id: int) -> QuarantinedIdentifier:
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    row = None
    if quarantined_id <= DATABASE_INT_MAX:
        row = own_quarantine(session, caller.organization_id, quarantined_id)
    # Another organization's entry is reported as missing, so ids reveal nothing.
    if row is None:
        raise ApiError(404, "No such quarantined identifier.")
    return row


@bp.get("/<int:quarantined_id>/")
def get_quarantined(quarantined_id: int) -> Response:
    """One quarantined identifier of the caller's organization."""
    return jsonify(quarantined_json(_own(quarantined_id)))


@bp.delete("/<int:quarantined_id>/")
def release_quarantined(quarantined_id: int) -> Response:
    """Release it: it matches again, and its claims start afresh."""
    row = _own(quarantined_id)
    session = request_session()
    release(session, row)
    session.commit()
    return Response(status=204)
