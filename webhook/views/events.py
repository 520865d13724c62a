"""Reading ingestion events, and replaying failed ones."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from models import IngestionEvent
from models.enums import EventAction, EventStatus
from webhook.auth import authenticate
from webhook.broker import enqueue_event
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.outcome import accepted_response
from webhook.pagination import paginate
from webhook.query_args import datetime_arg, enum_arg, text_arg
from webhook.serializers import event_json
from worker.replay import REPLAYABLE, requeue_events, why_not_replayable

bp = Blueprint("events", __name__, url_prefix="/api/ingestion-events")


def _own_event(event_id: str) -> IngestionEvent:
    session = request_session()
    caller = authenticate(session)
    try:
        parsed = uuid.UUID(event_id)
    except ValueError:
        raise ApiError(404, "No such event.") from None
    event = session.get(IngestionEvent, parsed)
    # Another organization's event is reported as missing, so ids reveal nothing.
    if event is None or event.organization_id != caller.organization_id:
        raise ApiError(404, "No such event.")
    return event


@bp.get("/<event_id>/")
def get_event(event_id: str) -> Response:
    """One event of the caller's organization."""
    return jsonify(event_json(_own_event(event_id)))


@bp.get("/")
def list_events() -> Response:
    """Events of the caller's organization, newest first, filtered and paginated."""
    session = request_session()
    caller = authenticate(session)
    statement = select(IngestionEvent).where(
        IngestionEvent.organization_id == caller.organization_id
    )
    config = text_arg("config")
    if config is not None:
        try:
            statement = statement.where(IngestionEvent.config_id == uuid.UUID(config))
        except ValueError:
            raise ApiError(400, "config must be a UUID.", {"config": ["not a UUID"]}) from None
    status = enum_arg("status", EventStatus)
    if status is not None:
        statement = statement.where(IngestionEvent.status == status)
    action = enum_arg("action", EventAction)
    if action is not None:
        statement = statement.where(IngestionEvent.action == action)
    since = datetime_arg("since")
    if since is not None:
        statement = statement.where(IngestionEvent.received_time >= since)
    statement = statement.order_by(IngestionEvent.received_time.desc(), IngestionEvent.seq.desc())
    return jsonify(paginate(session, statement, event_json))


@bp.post("/<event_id>/replay/")
def replay_event(event_id: str) -> Response:
    """Run a failed or dead event again, through the same path, with the current mapping."""
    event = _own_event(event_id)
    session = request_session()
    if event.status not in REPLAYABLE:
        raise ApiError(409, why_not_replayable(event.status).capitalize() + ".")
    replayed = requeue_events(session, [event.id])
    session.commit()
    if not replayed:
        raise ApiError(409, "This event was replayed by another request.")
    enqueue_event(event.id)
    return accepted_response(event.id)
