"""Answering with an event's outcome: waiting for it (``Prefer: wait=N``) and shaping the answer."""

from __future__ import annotations

import math
import re
import time
import uuid
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead
from models.enums import EventAction, EventStatus
from models.ingestion_event import find_event
from webhook.errors import ApiError, error_response
from webhook.serializers import errors_by_field, event_status_url, lead_json
from worker.anonymity import without_lead_ids

MAX_WAIT_SECONDS = 30.0
# The value must end where the preference does: "wait=1e999" is not a request to wait 1 s.
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+(?:\.\d+)?)(?=$|[,;\s])", re.IGNORECASE)


def requested_wait() -> float:
    """Seconds the client asked to wait for the outcome (``?wait=N`` or ``Prefer: wait=N``).

    ``?wait`` above the maximum is a 400, as the OpenAPI document declares; ``Prefer: wait`` is
    a preference (RFC 7240), honoured up to the maximum rather than refused.
    """
    raw = request.args.get("wait")
    preferred = raw is None
    if preferred:
        match = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
        raw = match.group(1) if match else None
    if raw is None or raw == "":
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        raise ApiError(
            400, "wait must be a number of seconds.", {"wait": ["not a number"]}
        ) from None
    if math.isnan(seconds):
        # NaN compares false with everything: the wait loop's deadline would never come.
        raise ApiError(400, "wait must be a number of seconds.", {"wait": ["not a number"]})
    if seconds < 0:
        raise ApiError(400, "wait must not be negative.", {"wait": ["must be at least 0"]})
    if seconds > MAX_WAIT_SECONDS and not preferred:
        limit = f"{MAX_WAIT_SECONDS:g}"
        raise ApiError(
            400, f"wait must be at most {limit} seconds.", {"wait": [f"must be at most {limit}"]}
        )
    return min(seconds, MAX_WAIT_SECONDS)


def wait_for_terminal(session: Session, event_id: uuid.UUID, seconds: float) -> IngestionEvent:
    """Poll the event until it is terminal or ``seconds`` pass; returns its latest state."""
    deadline = time.monotonic() + seconds
    pause = 0.01
    while True:
        session.expire_all()
        event = find_event(session, event_id)
        assert event is not None
        if event.status.is_terminal or time.monotonic() >= deadline:
            session.commit()  # end the read transaction so the next poll sees new commits
            return event
        session.commit()
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 1.5, 0.2)


def accepted_response(event: IngestionEvent | uuid.UUID, status: str = "queued") -> Response:
    """202 with the event id, its status and where to follow it."""
    event_id = event.id if isinstance(event, IngestionEvent) else event
    if isinstance(event, IngestionEvent):
        status = event.status.value
    url = event_status_url(event_id)
    response = jsonify({"id": str(event_id), "status": status, "status_url": url})
    response.status_code = 202
    response.headers["Location"] = url
    return response


def outcome_response(session: Session, event: IngestionEvent, anonymous: bool = False) -> Response:
    """The answer for a terminal event: 201/200 with the lead, 422 with errors, else 202.

    An anonymous caller (an open config, no token) is answered without stored data: see
    ``_anonymous_outcome``.
    """
    if anonymous:
        return _anonymous_outcome(event)
    if event.status == EventStatus.failed:
        response = _invalid_response(event.errors or [])
    elif event.status == EventStatus.done and event.lead_id is not None:
        lead = session.get(Lead, event.lead_id)
        assert lead is not None
        response = jsonify(lead_json(lead))
        response.status_code = 201 if event.action == EventAction.created else 200
        if event.action is not None:
            response.headers["Lead-Action"] = event.action.value
        # The key that found the lead; an anonymous caller is never told (see below).
        response.headers["Lead-Match"] = event.matched_by or "none"
    else:
        return accepted_response(event)
    response.headers["Ingestion-Event-Id"] = str(event.id)
    response.headers["Content-Location"] = event_status_url(event.id)
    return response


def _invalid_response(errors: list[dict[str, str]]) -> Response:
    grouped = errors_by_field(errors)
    fields = ", ".join(sorted(grouped)) or "payload"
    return error_response(422, f"The payload is invalid: {fields}.", grouped)


def _anonymous_outcome(event: IngestionEvent) -> Response:
    # Anyone holding an open config's URL can post to it, so the answer must not turn the form
    # into a way to read the people behind it: the event's id, status, action and errors, and
    # no lead (not even its id), no matched key, no warnings naming other leads; no header
    # points at a lead either (the event's URL in a 202 needs a token of the organization).
    if event.status == EventStatus.failed:
        response = _invalid_response(without_lead_ids(event.errors or []))
    elif event.status == EventStatus.done:
        action = event.action.value if event.action is not None else None
        body: dict[str, Any] = {
            "id": str(event.id),
            "status": event.status.value,
            "action": action,
            "errors": {},
        }
        response = jsonify(body)
        response.status_code = 201 if event.action == EventAction.created else 200
        if action is not None:
            response.headers["Lead-Action"] = action
    else:
        response = accepted_response(event)
    response.headers["Ingestion-Event-Id"] = str(event.id)
    return response
