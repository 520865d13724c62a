"""Reading leads of the caller's organization."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from models import Lead
from models.enums import LeadStatus
from webhook.auth import authenticate
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import DATABASE_INT_MAX, datetime_arg, enum_arg, int_arg, text_arg
from webhook.serializers import lead_json
from webhook.test_mode import include_test

bp = Blueprint("leads", __name__, url_prefix="/api/leads")


def _phone_filter(raw: str) -> str:
    from worker.ingest.phones import normalize_phone  # accepts every format ingestion accepts

    try:
        return normalize_phone(raw)
    except ValueError:
        # The reason would quote the number back; a filter's answer needs no more than this.
        raise ApiError(
            400, "phone_number is not a valid phone number.", {"phone_number": ["not valid"]}
        ) from None


@bp.get("/")
def list_leads() -> Response:
    """Leads of the caller's organization, most recently modified first, filtered.

    Test leads are left out unless ``?include_test=true``.
    """
    session = request_session()
    caller = authenticate(session)
    statement = select(Lead).where(Lead.organization_id == caller.organization_id)
    if not include_test():
        statement = statement.where(Lead.is_test.is_(False))
    external_id = text_arg("external_id")
    if external_id is not None:
        statement = statement.where(Lead.external_id == external_id)
    phone_number = text_arg("phone_number")
    if phone_number is not None:
        statement = statement.where(Lead.phone_number == _phone_filter(phone_number))
    email = text_arg("email")
    if email is not None:
        statement = statement.where(Lead.email == email.strip().lower())
    campaign = int_arg("campaign")
    if campaign is not None:
        statement = statement.where(Lead.campaign_id == campaign)
    status = enum_arg("status", LeadStatus, upper=True)
    if status is not None:
        statement = statement.where(Lead.status == status)
    modified_after = datetime_arg("modified_after")
    if modified_after is not None:
        statement = statement.where(Lead.modified_time > modified_after)
    statement = statement.order_by(Lead.modified_time.desc(), Lead.id.desc())
    return jsonify(paginate(session, statement, lead_json))


@bp.get("/<int:lead_id>/")
def get_lead(lead_id: int) -> Response:
    """One lead of the caller's organization."""
    session = request_session()
    caller = authenticate(session)
    # An id past the column's range names no lead; the database would refuse to compare it.
    lead = session.get(Lead, lead_id) if lead_id <= DATABASE_INT_MAX else None
    if lead is None or lead.organization_id != caller.organization_id:
        raise ApiError(404, "No such lead.")
    return jsonify(lead_json(lead))
