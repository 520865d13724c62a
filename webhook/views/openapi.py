"""Serving the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from webhook.openapi_document import openapi_document

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document())
