"""Events: the list with every filter of the API, one event in full, and its replay."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from common.payloads import PayloadError, merge_query, read_body
from console.access import db, organization_id, own_event
from console.blueprint import bp
from console.views.replays import filter_texts
from models import IngestionConfig, IngestionEvent
from models.enums import Endpoint, EventAction, EventStatus
from models.ingestion_event import listed_events
from webhook.broker import enqueue_event
from webhook.errors import ApiError
from webhook.event_filters import event_filters
from webhook.keyset import keyset_page
from worker.dry_run import dry_run_payload
from worker.ingest.mapping import MappingConfigError
from worker.replay import purged_note, replay_refusal, requeue_events


def _configs() -> list[IngestionConfig]:
    return list(
        db().scalars(
            select(IngestionConfig)
            .where(IngestionConfig.organization_id == organization_id())
            .order_by(IngestionConfig.created_time, IngestionConfig.id)
        )
    )


@bp.get("/events/")
def events() -> tuple[str, int] | str:
    """The organization's events, newest first, filtered as the API filters them."""
    session = db()
    choices = {
        "statuses": list(EventStatus),
        "actions": list(EventAction),
        "endpoints": list(Endpoint),
        "configs": _configs(),
    }
    try:
        statement = listed_events().where(
            IngestionEvent.organization_id == organization_id(), *event_filters()
        )
        page = keyset_page(
            session, statement, IngestionEvent.seq, lambda event: event.seq, lambda e: {"event": e}
        )
    except ApiError as error:
        # A bad filter is shown beside the form that holds it, with nothing listed.
        return render_template(
            "console/events.html", page=None, error=error, args=request.args, **choices
        ), 400
    # The bulk replay covers this filter's every match, not the page: the cursor stays behind.
    replay_query = urlencode(filter_texts(request.args), doseq=True)
    return render_template(
        "console/events.html",
        page=page.body,
        args=request.args,
        replay_query=replay_query,
        **choices,
    )


def stored_payload(event: IngestionEvent) -> tuple[dict[str, Any] | None, str | None]:
    """The event's payload as the worker reads it (query string merged), or why it cannot be."""
    try:
        body = read_body(event.raw_body, event.content_type)
    except PayloadError as error:
        return None, str(error)
    return merge_query(body.payload, event.query_string), None


def _raw_view(event: IngestionEvent, payload: dict[str, Any] | None) -> dict[str, Any]:
    """How the body is shown: JSON pretty-printed, form fields as a table, else the text."""
    if event.content_type.startswith("application/x-www-form-urlencoded"):
        text = event.raw_body.decode("utf-8", errors="replace")
        return {"form": parse_qsl(text, keep_blank_values=True)}
    if payload is not None and event.content_type.startswith("application/json"):
        return {"json": json.dumps(json.loads(event.raw_body), indent=2, ensure_ascii=False)}
    return {"text": event.raw_body.decode("utf-8", errors="replace")}


@bp.get("/events/<event_id>/")
def event(event_id: str) -> str:
    """One event: its payload, what the current mapping makes of it, and what it did."""
    found = own_event(event_id)
    config = db().get(IngestionConfig, found.config_id)
    assert config is not None
    purged = purged_note(found)
    # A purged body is empty on purpose: say so instead of showing a parse error of nothing.
    payload, unreadable = stored_payload(found) if purged is None else (None, purged)
    dry_run, dry_run_error = None, unreadable
    if payload is not None:
        try:
            dry_run = dry_run_payload(
                db(), config, payload, endpoint=found.endpoint.value, test=found.is_test
            )
        except (MappingConfigError, ValueError) as error:
            dry_run_error = str(error)
    rules = (config.mapping or {}).get("fields", {})
    errors = [error | {"rule": rules.get(error.get("field"))} for error in (found.errors or [])]
    return render_template(
        "console/event.html",
        event=found,
        config=config,
        raw={"purged": purged} if purged else _raw_view(found, payload),
        dry_run=dry_run,
        dry_run_error=dry_run_error,
        errors=errors,
        replayable=replay_refusal(found) is None,
    )


@bp.post("/events/<event_id>/replay")
def replay(event_id: str) -> Response:
    """Run a failed or dead event again with the current mapping, as the API's replay does."""
    found = own_event(event_id)
    session = db()
    refusal = replay_refusal(found)
    if refusal is not None:
        flash(refusal[0].upper() + refusal[1:] + ".")
    elif requeue_events(session, [found.id]):
        session.commit()
        enqueue_event(found.id)
        flash("Replay queued: the event runs again with the current mapping.")
    else:
        flash("This event was replayed by another request.")
    return redirect(url_for("console.event", event_id=event_id))
