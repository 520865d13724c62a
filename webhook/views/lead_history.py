"""A lead's field history (which event set each value), DNC ledger and consent records."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy.orm import Session

from models import Lead
from webhook.auth import authenticate
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import DATABASE_INT_MAX, datetime_arg, text_arg
from worker.lead_history import (
    change_json,
    consent_json,
    consent_statement,
    dnc_json,
    dnc_statement,
    history_statement,
)

bp = Blueprint("lead_history", __name__, url_prefix="/api/leads")


def _check_own_lead(session: Session, lead_id: int) -> None:
    caller = authenticate(session)
    lead = session.get(Lead, lead_id) if lead_id <= DATABASE_INT_MAX else None
    # Another organization's lead is reported as missing, so ids reveal nothing.
    if lead is None or lead.organization_id != caller.organization_id:
        raise ApiError(404, "No such lead.")


@bp.get("/<int:lead_id>/history/")
def lead_history(lead_id: int) -> Response:
    """Every change to the lead's fields, oldest first; ``field`` and ``since`` filter."""
    session = request_session()
    _check_own_lead(session, lead_id)
    statement = history_statement(lead_id, text_arg("field"), datetime_arg("since"))
    return jsonify(paginate(session, statement, change_json))


@bp.get("/<int:lead_id>/dnc/")
def lead_dnc(lead_id: int) -> Response:
    """The lead's DNC ledger: every change of sms_dnc and call_dnc, oldest first."""
    session = request_session()
    _check_own_lead(session, lead_id)
    return jsonify(paginate(session, dnc_statement(lead_id), dnc_json))


@bp.get("/<int:lead_id>/consent/")
def lead_consent(lead_id: int) -> Response:
    """The lead's consent records (TrustedForm, Jornaya, text, IP, time, source), oldest first."""
    session = request_session()
    _check_own_lead(session, lead_id)
    return jsonify(paginate(session, consent_statement(lead_id), consent_json))
