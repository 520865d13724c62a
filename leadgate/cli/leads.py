"""``leadgate lead``: reading a lead's field history, with personal values masked."""

from __future__ import annotations

import json
from typing import Any

import click

from common.masking import mask_text, masked_email, masked_phone
from leadgate.cli.context import admin_session
from leadgate.cli.records import AdminError
from models import Lead
from worker.lead_history import history_statement


def shown_value(field: str, value: Any) -> str:
    """A history value for the terminal: masked as logs mask it (a terminal is no safer)."""
    if value is None:
        return "-"
    if field == "phone_number" and isinstance(value, str):
        return masked_phone(value)
    if field == "email" and isinstance(value, str):
        return masked_email(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return mask_text(text)


@click.group("lead")
def lead_group() -> None:
    """Leads: their field history."""


@lead_group.command("history")
@click.argument("lead_id", type=int)
@click.option("--field", default=None, help="Only this field (metadata.KEY too).")
def lead_history(lead_id: int, field: str | None) -> None:
    """Every change to the lead's fields, oldest first, with the event that made it."""
    with admin_session(read_only=True) as session:
        if session.get(Lead, lead_id) is None:
            raise AdminError(f"no lead with id {lead_id}")
        changes = list(session.scalars(history_statement(lead_id, field)))
        lines = [
            f"{change.changed_time.isoformat(timespec='seconds')}  {change.field}: "
            f"{shown_value(change.field, change.old_value)} -> "
            f"{shown_value(change.field, change.new_value)}  "
            f"event {change.event_id} (mapping v{change.mapping_version})"
            for change in changes
        ]
    for line in lines:
        click.echo(line)
