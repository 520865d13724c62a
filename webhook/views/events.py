"""Reading ingestion events, and replaying failed ones."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from models import IngestionEvent
from models.enums import EventAction, EventStatus
from webhook.auth import authenticate
from webhook.broker import enqueue_event
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.outcome import accepted_response
from webhook.pagination import paginate
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


def _enum_filter(name: str, enum_type: type[EventStatus] | type[EventAction]) -> object | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return enum_type(raw.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum_type)
        raise ApiError(400, f"Unknown {name} {raw!r}.", {name: [f"one of {choices}"]}) from None


def _since_filter() -> dt.datetime | None:
    raw = request.args.get("since")
    if not raw:
        return None
    try:
        since = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400, "since must be an ISO 8601 datetime.", {"since": ["not a datetime"]}
        ) from None
    return since if since.tzinfo else since.replace(tzinfo=dt.UTC)


@bp.get("/")
def list_events() -> Response:
    """Events of the caller's organization, newest first, filtered and paginated."""
    session = request_session()
    caller = authenticate(session)
    statement = select(IngestionEvent).where(
        IngestionEvent.organization_id == caller.organization_id
    )
    config = request.args.get("config")
    if config:
        try:
            statement = statement.where(IngestionEvent.config_id == uuid.UUID(config))
        except ValueError:
            raise ApiError(400, "config must be a UUID.", {"config": ["not a UUID"]}) from None
    status = _enum_filter("status", EventStatus)
    if status is not None:
        statement = statement.where(IngestionEvent.status == status)
    action = _enum_filter("action", EventAction)
    if action is not None:
        statement = statement.where(IngestionEvent.action == action)
    since = _since_filter()
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
