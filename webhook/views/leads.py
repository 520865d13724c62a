"""Reading leads of the caller's organization."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from models import Lead
from models.enums import LeadStatus
from webhook.auth import authenticate
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.serializers import lead_json

bp = Blueprint("leads", __name__, url_prefix="/api/leads")


def _phone_filter(raw: str) -> str:
    from worker.ingest.phones import normalize_phone  # accepts every format ingestion accepts

    try:
        return normalize_phone(raw)
    except ValueError as error:
        raise ApiError(
            400, "phone_number is not a valid phone number.", {"phone_number": [str(error)]}
        ) from None


def _int_filter(name: str) -> int | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer.", {name: ["not an integer"]}) from None


@bp.get("/")
def list_leads() -> Response:
    """Leads of the caller's organization, most recently modified first, filtered."""
    session = request_session()
    caller = authenticate(session)
    statement = select(Lead).where(Lead.organization_id == caller.organization_id)
    args = request.args
    if args.get("external_id"):
        statement = statement.where(Lead.external_id == args["external_id"])
    if args.get("phone_number"):
        statement = statement.where(Lead.phone_number == _phone_filter(args["phone_number"]))
    if args.get("email"):
        statement = statement.where(Lead.email == args["email"].strip().lower())
    campaign = _int_filter("campaign")
    if campaign is not None:
        statement = statement.where(Lead.campaign_id == campaign)
    if args.get("status"):
        try:
            status = LeadStatus(args["status"].strip().upper())
        except ValueError:
            raise ApiError(
                400, f"Unknown status {args['status']!r}.", {"status": ["unknown status"]}
            ) from None
        statement = statement.where(Lead.status == status)
    if args.get("modified_after"):
        try:
            after = dt.datetime.fromisoformat(args["modified_after"])
        except ValueError:
            raise ApiError(
                400,
                "modified_after must be an ISO 8601 datetime.",
                {"modified_after": ["not a datetime"]},
            ) from None
        after = after if after.tzinfo else after.replace(tzinfo=dt.UTC)
        statement = statement.where(Lead.modified_time > after)
    statement = statement.order_by(Lead.modified_time.desc(), Lead.id.desc())
    return jsonify(paginate(session, statement, lead_json))


@bp.get("/<int:lead_id>/")
def get_lead(lead_id: int) -> Response:
    """One lead of the caller's organization."""
    session = request_session()
    caller = authenticate(session)
    lead = session.get(Lead, lead_id)
    if lead is None or lead.organization_id != caller.organization_id:
        raise ApiError(404, "No such lead.")
    return jsonify(lead_json(lead))
