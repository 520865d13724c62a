"""``leadgate events``: the inbox, newest first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import click
from sqlalchemy import select

from common.payloads import PayloadError
from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.output import emit_json, emit_table, say
from leadgate.cli.since import EXAMPLES, since_option
from models import IngestionConfig, IngestionEvent
from models.enums import EventStatus
from models.ingestion_event import find_event
from worker.event_search import EventFilter, event_conditions
from worker.payload_view import decoded_event_payload
from worker.replay import purged_note

# Long texts are cut so one event stays on one line; --json shows them whole.
CELL_LIMIT = 80


def _one_line(text: str) -> str:
    """``text`` on one line, cut to ``CELL_LIMIT`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= CELL_LIMIT else flat[: CELL_LIMIT - 1] + "…"


def first_error(errors: list[object]) -> str | None:
    """The first error as ``field: message``, and how many more there are."""
    described = [
        f"{error.get('field')}: {error.get('message')}"
        for error in errors
        if isinstance(error, dict)
    ]
    if not described:
        return None
    more = f" (+{len(described) - 1} more)" if len(described) > 1 else ""
    return _one_line(described[0]) + more


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
        "last_error": event.last_error,
        "received_time": event.received_time.isoformat(),
        "processed_time": event.processed_time.isoformat() if event.processed_time else None,
        "mapping_version": event.mapping_version,
        "is_test": event.is_test,
        "raw_body_purged_time": (
            event.raw_body_purged_time.isoformat() if event.raw_body_purged_time else None
        ),
    }


def _event_whole(event: IngestionEvent) -> dict[str, Any]:
    """The event with its request: content type, query string and body (as text if it is)."""
    try:
        body: str | None = event.raw_body.decode("utf-8")
    except UnicodeDecodeError:
        body = None  # shown with --payload, as the bytes they are
    return _event_as_dict(event) | {
        "idempotency_key": event.idempotency_key,
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
@click.option(
    "--decoded",
    is_flag=True,
    help="With --payload: the payload as JSON after the config's decode rules (what they map).",
)
def events_show(event_id: uuid.UUID, raw: bool, decoded: bool) -> None:
    """Print an event whole as JSON, or with --payload its raw body (--decoded: as mapped)."""
    if decoded and not raw:
        raise click.UsageError("--decoded goes with --payload")
    with admin_session(read_only=True) as session:
        event = find_event(session, event_id)
        if event is None:
            raise records.AdminError(f"no ingestion event with id {event_id}")
        shown = _event_whole(event)
        body = event.raw_body
        purged = purged_note(event)
        if raw and purged is not None:
            raise records.AdminError(f"event {event_id}: {purged}")
        if decoded:
            config = session.get(IngestionConfig, event.config_id)
            assert config is not None  # a foreign key guarantees it
            try:
                emit_json(decoded_event_payload(event, config))
            except PayloadError as error:
                raise records.AdminError(f"the stored body cannot be read: {error}") from None
            return
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
@click.option(
    "--since",
    metavar="TIME",
    callback=since_option,
    help=f"Only events received since then: {EXAMPLES}.",
)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def events_list(
    statuses: tuple[str, ...],
    config_id: uuid.UUID | None,
    since: dt.datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the most recent events, with the first error and the last transient error."""
    wanted = EventFilter(
        config=config_id, statuses=tuple(EventStatus(status) for status in statuses), since=since
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
        (event.id, event.received_time, event.config_id, event.endpoint.value, event.status.value,
         event.action.value if event.action else None, event.lead_id, event.attempts,
         first_error(event.errors), _one_line(event.last_error) if event.last_error else None)
        for event in events
    ]  # fmt: skip
    emit_table(
        ("ID", "RECEIVED", "CONFIG", "ENDPOINT", "STATUS", "ACTION", "LEAD", "ATTEMPTS", "ERROR",
         "LAST ERROR"),
        rows,
    )  # fmt: skip
