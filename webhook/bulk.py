"""POST /api/leads/bulk-create/: each item its own event, the answer every item's outcome.

An item's idempotency key is the request's key (the ``Idempotency-Key`` header, else the digest
of the body) plus the item's index, so a client that retries the whole request, with its key
or without one after a timeout, never has an item applied twice. One bad item never fails the
others: it is answered ``"action": "error"`` in its place.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.enums import Endpoint, EventStatus
from webhook.auth import EndpointConfig
from webhook.broker import enqueue_event
from webhook.errors import ApiError
from webhook.idempotency import idempotency_key
from webhook.inbox import store_event

# A bulk body may be this many times the single-lead body limit.
BULK_BODY_FACTOR = 16
_JSON = "application/json"


@dataclass
class BulkItem:
    """One item of the request: its event (None when it never became one) or why not."""

    event_id: uuid.UUID | None = None
    created: bool = False
    error: str | None = None


def bulk_leads(payload: dict[str, Any], max_items: int) -> list[Any]:
    """The request's ``leads`` list; 400 when there is none, 413 when it is too long."""
    leads = payload.get("leads")
    if not isinstance(leads, list):
        raise ApiError(400, "leads must be a list of leads.", {"leads": ["expected a list"]})
    if len(leads) > max_items:
        raise ApiError(413, f"At most {max_items} leads per request; got {len(leads)}.")
    return leads


def _request_key(raw_body: bytes) -> str:
    header = request.headers.get("Idempotency-Key")
    if header is not None and header.strip():
        return "key:" + header.strip()
    return "body:" + hashlib.sha256(raw_body).hexdigest()


def store_items(
    session: Session,
    config: EndpointConfig,
    raw_body: bytes,
    leads: list[Any],
    is_test: bool = False,
) -> list[BulkItem]:
    """Store each lead object as its own event (committed one by one), in request order."""
    request_key = _request_key(raw_body)
    items: list[BulkItem] = []
    for index, lead in enumerate(leads):
        if not isinstance(lead, dict):
            items.append(BulkItem(error=f"expected a lead object, got {type(lead).__name__}"))
            continue
        key = idempotency_key(f"{Endpoint.leads_bulk.value}:{request_key}:{index}", None, {})
        try:
            body = json.dumps(lead).encode()
            stored = store_event(
                session, config, Endpoint.leads_bulk, body, _JSON, "", key, is_test=is_test
            )
        except ApiError as error:  # the key reused with another item: this item alone fails
            items.append(BulkItem(error=error.detail))
            continue
        items.append(BulkItem(stored.event_id, stored.created))
    return items


def enqueue_in_order(session: Session, items: list[BulkItem], seconds: float) -> None:
    """Enqueue the new items' events so the worker takes them in request order.

    Items of one request may share a person, and the later one must not be applied first (it
    would make the earlier one stale). So only the first unfinished event gets a message; its
    claim takes the fresh events queued behind it as one batch, applied in receive order; when
    they are done, the next unfinished one gets its message. When ``seconds`` run out (or with
    no wait at all) every remaining event gets its message at once, so none waits on the sweeper.
    """
    waiting = [item.event_id for item in items if item.created and item.event_id is not None]
    deadline = time.monotonic() + seconds
    sent: set[uuid.UUID] = set()
    while waiting and time.monotonic() < deadline:
        if waiting[0] not in sent:
            enqueue_event(waiting[0])
            sent.add(waiting[0])
        time.sleep(0.02)
        finished = _terminal(session, waiting)
        while waiting and waiting[0] in finished:
            waiting.pop(0)
    for event_id in waiting:
        if event_id not in sent:
            enqueue_event(event_id)


def _terminal(session: Session, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = session.execute(
        select(IngestionEvent.id, IngestionEvent.status).where(IngestionEvent.id.in_(event_ids))
    ).all()
    session.commit()  # end the read transaction so the next poll sees new commits
    return {row.id for row in rows if row.status.is_terminal}


def wait_for_items(
    session: Session, event_ids: list[uuid.UUID], seconds: float
) -> dict[uuid.UUID, IngestionEvent]:
    """Poll the events until all are terminal or ``seconds`` pass; their latest states."""
    deadline = time.monotonic() + seconds
    pause = 0.02
    while True:
        session.expire_all()
        events = {
            event.id: event
            for event in session.scalars(
                select(IngestionEvent).where(IngestionEvent.id.in_(event_ids))
            )
        }
        session.commit()  # end the read transaction so the next poll sees new commits
        done = all(event.status.is_terminal for event in events.values())
        if done or time.monotonic() >= deadline:
            return events
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 1.5, 0.2)


def item_result(item: BulkItem, event: IngestionEvent | None) -> dict[str, Any]:
    """One item's answer: ``{"id", "action", "error", "event"}``; action None while pending."""
    if item.error is not None or event is None:
        return {"id": None, "action": "error", "error": item.error, "event": None}
    result: dict[str, Any] = {"id": None, "action": None, "error": None, "event": str(event.id)}
    if event.status == EventStatus.done and event.action is not None:
        result.update(id=event.lead_id, action=event.action.value)
    elif event.status == EventStatus.failed:
        first = (event.errors or [{}])[0]
        result.update(action="error", error=f"{first.get('field')}: {first.get('message')}")
    elif event.status == EventStatus.dead:
        result.update(action="error", error="could not be processed; replay the event later")
    return result
