"""The fan-in quarantine at a glance, for a config's stats: how many, the latest, the warned.

Quarantine is the organization's (a phone number claimed by too many people is shared by every
config of it), so the count and the latest entries are the organization's; the warned events
are the config's own, in the stats window, counted in the stats' outcome scan
(``worker.health.stats``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import QuarantinedIdentifier
from worker.ingest.fan_in import masked_identifier
from worker.ingest.fan_in_store import quarantine_statement
from worker.lead_payload import iso

LATEST = 5


def latest_json(row: QuarantinedIdentifier, reveal_value: bool) -> dict[str, Any]:
    """One quarantined identifier, masked; with its value only for the organization's API."""
    entry: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "masked": masked_identifier(row.kind, row.value),
        "claimants": row.claimants,
        "quarantined_time": iso(row.quarantined_time),
    }
    if reveal_value:
        entry["value"] = row.value
    return entry


def quarantine_summary(
    session: Session, organization_id: int, reveal_values: bool = False, latest: int = LATEST
) -> dict[str, Any]:
    """How many identifiers the organization has quarantined, and the ``latest`` newest.

    ``reveal_values`` adds each full value, as /api/quarantined-identifiers/ shows them to the
    organization's own callers; the CLI and the console show the masked form only.
    """
    count = session.scalar(
        select(func.count())
        .select_from(QuarantinedIdentifier)
        .where(QuarantinedIdentifier.organization_id == organization_id)
    )
    rows = session.scalars(quarantine_statement(organization_id).limit(latest))
    return {
        "identifiers": int(count or 0),
        "latest": [latest_json(row, reveal_values) for row in rows],
    }
