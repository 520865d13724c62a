"""The provider templates a config can start from (``leadgate config create --template``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from webhook.auth import authenticate
from webhook.db import request_session
from worker.ingest.templates import template_summaries

bp = Blueprint("templates", __name__, url_prefix="/api/mapping-templates")


@bp.get("/")
def list_templates() -> Response:
    """Every provider template: name, description, auth mode and what the provider needs."""
    authenticate(request_session())
    results = template_summaries()
    # A short, fixed list: one page in the API's list shape.
    return jsonify({"count": len(results), "next": None, "previous": None, "results": results})
