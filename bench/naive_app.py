"""The naive peer for B2: a Flask view that enqueues the raw body, a Celery task that upserts it.

What a first implementation of the same service looks like, with none of leadgate's guarantees
(no inbox, no idempotency, no locks, no mapping engine): the web calls ``task.delay(body)``; the
task picks the fields by hand, normalizes the phone with phonenumbers and runs one
``INSERT ... ON CONFLICT`` and one commit per lead. The harness serves it with the Procfile's own
gunicorn and worker command lines, so both sides run the same process counts.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from typing import Any

import phonenumbers
import psycopg
from celery import Celery
from flask import Flask, Response, jsonify, request

from bench.raw_baseline import lead_row

QUEUE = "naive-peer"

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS naive_leads (
    id bigserial PRIMARY KEY,
    organization_id integer NOT NULL,
    external_id text NOT NULL,
    phone_number text,
    email text,
    us_state text,
    lead_source text,
    metadata jsonb NOT NULL DEFAULT '{}',
    events integer NOT NULL DEFAULT 1,
    created_time timestamptz NOT NULL DEFAULT now(),
    modified_time timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, external_id)
)
"""

# ``events`` counts the payloads applied, so the harness can tell when the queue has drained.
UPSERT = """
INSERT INTO naive_leads (organization_id, external_id, phone_number, email, us_state,
                         lead_source, metadata)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (organization_id, external_id) DO UPDATE SET
    phone_number = COALESCE(EXCLUDED.phone_number, naive_leads.phone_number),
    email = COALESCE(EXCLUDED.email, naive_leads.email),
    us_state = COALESCE(EXCLUDED.us_state, naive_leads.us_state),
    lead_source = COALESCE(EXCLUDED.lead_source, naive_leads.lead_source),
    metadata = naive_leads.metadata || EXCLUDED.metadata,
    events = naive_leads.events + 1,
    modified_time = now()
"""

celery = Celery("naive-peer", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2"))
celery.conf.task_default_queue = QUEUE
celery.conf.worker_hijack_root_logger = False

app = Flask(__name__)

_local = threading.local()


def normalized_phone(raw: str | None) -> str | None:
    """The phone in E.164, or None when phonenumbers cannot read it as a US number."""
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def naive_row(payload: dict[str, Any], organization_id: int = 1) -> tuple[Any, ...]:
    """The row for one payload: the raw baseline's hand-picked fields, the phone normalized."""
    row = list(lead_row(organization_id, payload))
    row[2] = normalized_phone(row[2])
    return tuple(row)


def _connection() -> psycopg.Connection[Any]:
    # One connection per worker process, opened on first use (after the fork).
    connection: psycopg.Connection[Any] | None = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = psycopg.connect(os.environ["DATABASE_URL"])
        _local.connection = connection
    return connection


@celery.task(name="naive.upsert_lead")  # type: ignore[untyped-decorator]
def upsert_lead(body: str) -> None:
    """Upsert one lead from a raw body: one statement, one commit."""
    connection = _connection()
    connection.execute(UPSERT, naive_row(json.loads(body)))
    connection.commit()


@app.get("/healthz")
def healthz() -> Response:
    """Liveness, so the harness can tell when the server is up."""
    return jsonify(status="ok")


@app.post("/api/lead-ingestion/<config_id>/upsert/")
def upsert(config_id: str) -> tuple[Response, int]:
    """Enqueue the raw body and answer 202."""
    upsert_lead.delay(request.get_data(as_text=True))
    return jsonify(id=str(uuid.uuid4()), status="queued"), 202
