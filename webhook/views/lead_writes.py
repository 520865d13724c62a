"""The standard lead API's writes (Sela's): create, update by match, and PATCH of one lead.

Each request is stored in the inbox as an event of the organization's standard-API config and
processed by the worker like any other, then answered with the outcome (see
``webhook.standard_api``). Nothing here maps, matches or writes a lead.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify

from models import Lead
from models.enums import Endpoint
from webhook.auth import authenticate
from webhook.broker import enqueue_event
from webhook.bulk import (
    BULK_BODY_FACTOR,
    bulk_leads,
    enqueue_in_order,
    item_result,
    store_items,
    wait_for_items,
)
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.idempotency import idempotency_key
from webhook.inbox import store_event
from webhook.outcome import accepted_response, wait_for_terminal
from webhook.query_args import DATABASE_INT_MAX
from webhook.request_body import read_payload
from webhook.standard_api import (
    standard_config,
    standard_idempotency_header,
    standard_outcome,
    standard_wait,
)
from webhook.test_mode import check_patch_mode, requested_test_mode

bp = Blueprint("lead_writes", __name__, url_prefix="/api/leads")


def _write(endpoint: Endpoint, target_lead_id: int | None = None) -> Response:
    session = request_session(autocommit=True)
    caller = authenticate(session)
    assert caller.organization_id is not None  # a token always names its organization
    is_test = requested_test_mode(caller)
    if target_lead_id is not None:
        lead = session.get(Lead, target_lead_id) if target_lead_id <= DATABASE_INT_MAX else None
        if lead is None or lead.organization_id != caller.organization_id:
            raise ApiError(404, "No such lead.")
        check_patch_mode(lead, is_test)
    config = standard_config(session, caller.organization_id)
    wait = standard_wait()
    incoming = read_payload(current_app.config["MAX_BODY_BYTES"])
    stored = store_event(
        session,
        config,
        endpoint,
        incoming.raw_body,
        incoming.content_type,
        incoming.query_string,
        idempotency_key(standard_idempotency_header(endpoint, target_lead_id), None, {}),
        target_lead_id=target_lead_id,
        is_test=is_test,
    )
    # Enqueue only once the event is committed, so the worker finds it.
    session.commit()
    if stored.created:
        enqueue_event(stored.event_id)
    if wait <= 0:
        response = accepted_response(stored.event_id)
    else:
        response = standard_outcome(session, wait_for_terminal(session, stored.event_id, wait))
    if not stored.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/")
def create_lead() -> Response:
    """Create a lead from Sela's standard format (duplicate and reengagement rules apply)."""
    return _write(Endpoint.leads_create)


@bp.put("/update/")
def update_lead() -> Response:
    """Update the lead with the body's phone number and email; 404 when there is none."""
    return _write(Endpoint.leads_update)


@bp.patch("/<int:lead_id>/")
def patch_lead(lead_id: int) -> Response:
    """Change some fields of one lead; the owner may clear a DNC flag here."""
    return _write(Endpoint.leads_patch, lead_id)


@bp.post("/bulk-create/")
def bulk_create_leads() -> Response:
    """Create up to BULK_MAX_ITEMS leads, one event each; every item's outcome in order."""
    session = request_session(autocommit=True)
    caller = authenticate(session)
    assert caller.organization_id is not None
    is_test = requested_test_mode(caller)
    config = standard_config(session, caller.organization_id)
    wait = standard_wait()
    incoming = read_payload(current_app.config["MAX_BODY_BYTES"] * BULK_BODY_FACTOR)
    leads = bulk_leads(incoming.payload, current_app.config["BULK_MAX_ITEMS"])
    items = store_items(session, config, incoming.raw_body, leads, is_test)
    session.commit()
    deadline = time.monotonic() + wait
    enqueue_in_order(session, items, wait)
    event_ids = [item.event_id for item in items if item.event_id is not None]
    remaining = max(deadline - time.monotonic(), 0.0)
    events = wait_for_items(session, event_ids, remaining) if event_ids else {}
    results = [
        item_result(item, events.get(item.event_id) if item.event_id else None) for item in items
    ]
    pending = any(result["action"] is None for result in results)
    response = jsonify({"results": results})
    # Items still running when the wait ran out: follow each one's event.
    response.status_code = 202 if pending else 200
    return response
