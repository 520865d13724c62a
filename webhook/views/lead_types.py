"""Reading lead types of the caller's organization."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from models import LeadType
from webhook.auth import authenticate
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.pagination import paginate
from webhook.query_args import DATABASE_INT_MAX, text_arg
from webhook.serializers import lead_type_json

bp = Blueprint("lead_types", __name__, url_prefix="/api/lead-types")


def _like_pattern(text: str) -> str:
    # The search is a substring match: the user's % and _ are characters, not wildcards.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@bp.get("/")
def list_lead_types() -> Response:
    """Lead types of the caller's organization, by id; ``search`` matches the name in any case."""
    session = request_session()
    caller = authenticate(session)
    statement = select(LeadType).where(LeadType.organization_id == caller.organization_id)
    search = text_arg("search")
    if search is not None:
        statement = statement.where(LeadType.name.ilike(_like_pattern(search), escape="\\"))
    return jsonify(paginate(session, statement.order_by(LeadType.id), lead_type_json))


@bp.get("/<int:lead_type_id>/")
def get_lead_type(lead_type_id: int) -> Response:
    """One lead type of the caller's organization."""
    session = request_session()
    caller = authenticate(session)
    found = session.get(LeadType, lead_type_id) if lead_type_id <= DATABASE_INT_MAX else None
    if found is None or found.organization_id != caller.organization_id:
        raise ApiError(404, "No such lead type.")
    return jsonify(lead_type_json(found))
