"""Liveness and readiness."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from webhook.broker import broker_reachable
from webhook.db import engine

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when the database and the broker both answer."""
    checks: dict[str, str] = {}
    try:
        with engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means not ready; the type is enough to act on
        checks["database"] = f"unreachable ({type(error).__name__})"
    checks["broker"] = "ok" if broker_reachable() else "unreachable"
    ready = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
