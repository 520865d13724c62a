"""``leadgate events``: the inbox, newest first."""

from __future__ import annotations

import uuid
from typing import Any

import click
from sqlalchemy import select

from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.output import emit_json, emit_table, say
from models import IngestionEvent
from models.enums import EventStatus
from worker.event_search import EventFilter, event_conditions


def _error_fields(errors: list[object]) -> str:
    fields = [str(error.get("field")) for error in errors if isinstance(error, dict)]
    return ",".join(fields) if fields else ""


def _event_as_dict(event: IngestionEvent) -> dict[str, Any]:
    """The event with the API's field names."""
    return {
        "id": str(event.id),
        "config": str(event.config_id),
        "endpoint": event.endpoint.value,
        "status": event.status.value,
        "action": event.action.value if event.action else None,
        "lead_id": event.lead_id,
        "matched_by": event.matched_by,
        "attempts": event.attempts,
        "errors": event.errors,
        "warnings": event.warnings,
        "received_time": event.received_time.isoformat(),
        "processed_time": event.processed_time.isoformat() if event.processed_time else None,
        "mapping_version": event.mapping_version,
    }


def _event_whole(event: IngestionEvent) -> dict[str, Any]:
    """The event with its request: content type, query string and body (as text if it is)."""
    try:
        body: str | None = event.raw_body.decode("utf-8")
    except UnicodeDecodeError:
        body = None  # shown with --payload, as the bytes they are
    return _event_as_dict(event) | {
        "idempotency_key": event.idempotency_key,
        "last_error": event.last_error,
        "content_type": event.content_type,
        "query_string": event.query_string,
        "body": body,
    }


@click.group("events")
def events_group() -> None:
    """Ingestion events: every accepted payload and what became of it."""


@events_group.command("show")
@click.argument("event_id", type=click.UUID)
@click.option(
    "--payload",
    "raw",
    is_flag=True,
    help="Print only the raw body, byte for byte (for `leadgate config test UUID FILE`).",
)
def events_show(event_id: uuid.UUID, raw: bool) -> None:
    """Print an event whole as JSON, or with --payload its raw body."""
    with admin_session(read_only=True) as session:
        event = session.get(IngestionEvent, event_id)
        if event is None:
            raise records.AdminError(f"no ingestion event with id {event_id}")
        shown = _event_whole(event)
        body = event.raw_body
    if not raw:
        emit_json(shown)
        return
    say(f"content type {shown['content_type']}")
    if shown["query_string"]:
        # `config test` reads the body alone; the query string's keys are payload keys too.
        say(f"query string {shown['query_string']} (merged into the payload under the body's keys)")
    click.echo(body, nl=False)  # bytes go out as they are, on stdout's binary stream


@events_group.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in EventStatus]),
    help="Only events in this status; repeat for several.",
)
@click.option("--config", "config_id", type=click.UUID, default=None, help="Only this config.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def events_list(
    statuses: tuple[str, ...], config_id: uuid.UUID | None, limit: int, as_json: bool
) -> None:
    """List the most recent events."""
    wanted = EventFilter(
        config=config_id, statuses=tuple(EventStatus(status) for status in statuses)
    )
    with admin_session(read_only=True) as session:
        if config_id is not None:
            records.get_config(session, config_id)
        query = (
            select(IngestionEvent)
            .where(*event_conditions(wanted))
            .order_by(IngestionEvent.seq.desc())
            .limit(limit)
        )
        events = list(session.scalars(query))
    if as_json:
        emit_json([_event_as_dict(event) for event in events])
        return
    rows = [
        (event.id, event.received_time, event.endpoint.value, event.status.value,
         event.action.value if event.action else None, event.lead_id, event.attempts,
         _error_fields(event.errors) or None)
        for event in events
    ]  # fmt: skip
    emit_table(
        ("ID", "RECEIVED", "ENDPOINT", "STATUS", "ACTION", "LEAD", "ATTEMPTS", "ERRORS"), rows
    )
