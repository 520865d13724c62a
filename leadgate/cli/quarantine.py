"""``leadgate quarantine``: phone numbers and emails too many external ids gave (fan-in)."""

from __future__ import annotations

import click

from leadgate.cli import records
from leadgate.cli.context import admin_session
from leadgate.cli.output import emit_table, say
from leadgate.cli.records import AdminError
from worker.ingest.fan_in_store import own_quarantine, quarantine_statement, release


@click.group("quarantine")
def quarantine_group() -> None:
    """Quarantined identifiers: no longer used to match in their organization."""


@quarantine_group.command("list")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
def quarantine_list(organization_id: int) -> None:
    """List the organization's quarantined identifiers, newest first."""
    with admin_session(read_only=True) as session:
        records.get_organization(session, organization_id)
        rows = [
            (row.id, row.kind, row.value, row.claimants,
             row.quarantined_time.isoformat(timespec="seconds"))
            for row in session.scalars(quarantine_statement(organization_id))
        ]  # fmt: skip
    emit_table(("ID", "KIND", "VALUE", "CLAIMANTS", "QUARANTINED"), rows)


@quarantine_group.command("release")
@click.option("--org", "organization_id", type=int, required=True, help="Organization id.")
@click.argument("entry_id", type=int)
def quarantine_release(organization_id: int, entry_id: int) -> None:
    """Release one: it matches again, and its claims start afresh."""
    with admin_session() as session:
        row = own_quarantine(session, organization_id, entry_id)
        if row is None:
            raise AdminError(f"organization {organization_id} has no quarantined entry {entry_id}")
        release(session, row)
    say(f"released quarantined entry {entry_id} of organization {organization_id}")
