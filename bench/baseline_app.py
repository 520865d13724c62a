"""The bare baseline for B1: a Flask view that reads the body and answers 202, nothing else.

Served by the Procfile's own gunicorn command line (``bench.baseline_app:app`` in place of
``webhook.wsgi:app``), so the difference to leadgate is leadgate's own work per request.
"""

from __future__ import annotations

import uuid

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> Response:
    """Liveness, so the harness can tell when the server is up."""
    return jsonify(status="ok")


@app.post("/api/lead-ingestion/<config_id>/upsert/")
def upsert(config_id: str) -> tuple[Response, int]:
    """Accept any payload: read it, answer 202 with an id, as leadgate's answer looks."""
    request.get_data()
    event_id = str(uuid.uuid4())
    return jsonify(
        id=event_id, status="queued", status_url=f"/api/ingestion-events/{event_id}/"
    ), 202
