"""Reading ingestion events, and replaying failed ones."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, jsonify

from common.payloads import PayloadError
from models import IngestionConfig, IngestionEvent
from models.ingestion_event import find_event, listed_events
from webhook.auth import authenticate
from webhook.broker import enqueue_event
from webhook.db import request_session
from webhook.errors import ApiError
from webhook.event_filters import QUERY_STRING_HEADER, event_filters, header_safe
from webhook.keyset import ESTIMATE_HEADER, keyset_page
from webhook.outcome import accepted_response
from webhook.query_args import text_arg
from webhook.serializers import event_json
from worker.payload_view import decoded_event_payload
from worker.replay import purged_note, replay_refusal, requeue_events

bp = Blueprint("events", __name__, url_prefix="/api/ingestion-events")


def _own_event(event_id: str) -> IngestionEvent:
    session = request_session()
    caller = authenticate(session)
    try:
        parsed = uuid.UUID(event_id)
    except ValueError:
        raise ApiError(404, "No such event.") from None
    event = find_event(session, parsed)
    # Another organization's event is reported as missing, so ids reveal nothing.
    if event is None or event.organization_id != caller.organization_id:
        raise ApiError(404, "No such event.")
    return event


@bp.get("/<event_id>/")
def get_event(event_id: str) -> Response:
    """One event of the caller's organization."""
    return jsonify(event_json(_own_event(event_id)))


@bp.get("/<event_id>/payload/")
def get_payload(event_id: str) -> Response:
    """The event's raw body as received, with its Content-Type; the query string in a header.

    ``decoded=true`` answers JSON instead: the body and query string parsed, after the
    config's ``decode`` rules, as the mapping's rules see it.
    """
    event = _own_event(event_id)
    purged = purged_note(event)
    if purged is not None:
        # Gone on purpose, not lost: say so rather than answer an empty body.
        raise ApiError(410, purged[0].upper() + purged[1:] + ".")
    if _decoded_arg():
        return _decoded(event)
    response = Response(event.raw_body, status=200, content_type=event.content_type)
    response.headers[QUERY_STRING_HEADER] = header_safe(event.query_string)
    # Fetched by scripts and the console, never rendered as a page of this origin.
    response.headers["Content-Disposition"] = f'attachment; filename="{event.id}"'
    return response


def _decoded_arg() -> bool:
    raw = (text_arg("decoded") or "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(
            400, "decoded must be true or false.", {"decoded": ["expected true or false"]}
        )
    return raw in ("true", "1")


def _decoded(event: IngestionEvent) -> Response:
    config = request_session().get(IngestionConfig, event.config_id)
    assert config is not None  # a foreign key guarantees it
    try:
        shown = decoded_event_payload(event, config)
    except PayloadError as error:
        raise ApiError(
            422, "The stored body cannot be read as a payload.", {"body": [str(error)]}
        ) from None
    response = jsonify(shown)
    response.headers["Content-Disposition"] = f'attachment; filename="{event.id}.json"'
    return response


@bp.get("/")
def list_events() -> Response:
    """Events of the caller's organization, newest first, filtered, one cursor page at a time."""
    session = request_session()
    caller = authenticate(session)
    assert caller.organization_id is not None
    statement = listed_events().where(
        IngestionEvent.organization_id == caller.organization_id, *event_filters()
    )
    page = keyset_page(session, statement, IngestionEvent.seq, lambda event: event.seq, event_json)
    response = jsonify(page.body)
    if page.count_is_estimate:
        response.headers[ESTIMATE_HEADER] = "true"
    return response


@bp.post("/<event_id>/replay/")
def replay_event(event_id: str) -> Response:
    """Run a failed or dead event again, through the same path, with the current mapping."""
    event = _own_event(event_id)
    session = request_session()
    refusal = replay_refusal(event)
    if refusal is not None:
        raise ApiError(409, refusal[0].upper() + refusal[1:] + ".")
    replayed = requeue_events(session, [event.id])
    session.commit()
    if not replayed:
        raise ApiError(409, "This event was replayed by another request.")
    enqueue_event(event.id)
    return accepted_response(event.id)
