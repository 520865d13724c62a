"""``leadgate events``: the inbox, newest first."""

from __future__ import annotations

import uuid
from typing import Any

import click
from sqlalchemy import select

from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.output import emit_json, emit_table
from models import IngestionEvent
from models.enums import EventStatus


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
    }


@click.group("events")
def events_group() -> None:
    """Ingestion events: every accepted payload and what became of it."""


@events_group.command("list")
@click.option("--status", type=click.Choice([status.value for status in EventStatus]))
@click.option("--config", "config_id", type=click.UUID, default=None, help="Only this config.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def events_list(status: str | None, config_id: uuid.UUID | None, limit: int, as_json: bool) -> None:
    """List the most recent events."""
    with admin_session(read_only=True) as session:
        query = select(IngestionEvent).order_by(IngestionEvent.seq.desc()).limit(limit)
        if status is not None:
            query = query.where(IngestionEvent.status == EventStatus(status))
        if config_id is not None:
            records.get_config(session, config_id)
            query = query.where(IngestionEvent.config_id == config_id)
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
