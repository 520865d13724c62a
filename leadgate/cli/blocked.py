"""``leadgate blocked``: an organization's blocked identifiers and placeholder values."""

from __future__ import annotations

import click

from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.output import emit, emit_table, say
from leadgate.cli.records import AdminError
from worker.blocked_identifiers import (
    EntryError,
    add_entry,
    checked_entry,
    entries_statement,
    own_entry,
    set_reserved_blocking,
)
from worker.ingest.hygiene import KINDS

_KIND = click.Choice(KINDS)


@click.group("blocked")
def blocked_group() -> None:
    """Blocked identifiers (never matched nor stored) and placeholders (taken as missing)."""


@blocked_group.command("add")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.argument("kind", type=_KIND)
@click.argument("value")
def blocked_add(organization_id: int, kind: str, value: str) -> None:
    """Block a phone number or email (or @domain), or add a placeholder value; prints its id."""
    with admin_session() as session:
        records.get_organization(session, organization_id)
        try:
            row = add_entry(session, organization_id, checked_entry(kind, value))
        except EntryError as error:
            raise AdminError(f"{error.field}: {error}") from None
        entry_id = row.id
    say(f"added {kind} entry {entry_id} to organization {organization_id}")
    emit(entry_id)


@blocked_group.command("list")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.option("--kind", type=_KIND, default=None, help="Only entries of this kind.")
def blocked_list(organization_id: int, kind: str | None) -> None:
    """List the organization's entries, oldest first."""
    with admin_session(read_only=True) as session:
        records.get_organization(session, organization_id)
        rows = [
            (row.id, row.kind, row.value, row.created_time.isoformat(timespec="seconds"))
            for row in session.scalars(entries_statement(organization_id, kind))
        ]
    emit_table(("ID", "KIND", "VALUE", "CREATED"), rows)


@blocked_group.command("remove")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.argument("entry_id", type=int)
def blocked_remove(organization_id: int, entry_id: int) -> None:
    """Remove an entry: its value is matched and stored again from the next event on."""
    with admin_session() as session:
        row = own_entry(session, organization_id, entry_id)
        if row is None:
            raise AdminError(f"organization {organization_id} has no entry {entry_id}")
        session.delete(row)
    say(f"removed entry {entry_id} from organization {organization_id}")


@blocked_group.command("reserved")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.argument("setting", type=click.Choice(["block", "allow"]))
def blocked_reserved(organization_id: int, setting: str) -> None:
    """Block (the default) or allow the example numbers (555-01XX) and domains (RFC 2606)."""
    with admin_session() as session:
        organization = records.get_organization(session, organization_id)
        set_reserved_blocking(session, organization, setting == "block")
    verb = "blocks" if setting == "block" else "allows"
    say(f"organization {organization_id} {verb} the reserved example identifiers")
