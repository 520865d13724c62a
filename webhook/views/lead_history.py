"""A lead's field history: which event set each value, from which payload."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from models import Lead
from webhook.auth import authenticate
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import DATABASE_INT_MAX, datetime_arg, text_arg
from worker.lead_history import change_json, history_statement

bp = Blueprint("lead_history", __name__, url_prefix="/api/leads")


@bp.get("/<int:lead_id>/history/")
def lead_history(lead_id: int) -> Response:
    """Every change to the lead's fields, oldest first; ``field`` and ``since`` filter."""
    session = request_session()
    caller = authenticate(session)
    lead = session.get(Lead, lead_id) if lead_id <= DATABASE_INT_MAX else None
    # Another organization's lead is reported as missing, so ids reveal nothing.
    if lead is None or lead.organization_id != caller.organization_id:
        raise ApiError(404, "No such lead.")
    statement = history_statement(lead_id, text_arg("field"), datetime_arg("since"))
    return jsonify(paginate(session, statement, change_json))
