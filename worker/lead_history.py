"""A lead's field history (provenance): the query the API and the CLI read it with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from models import ConsentRecord, DncChange, LeadFieldChange
from worker.lead_payload import iso


def history_statement(
    lead_id: int, field: str | None = None, since: dt.datetime | None = None
) -> Select[LeadFieldChange]:
    """The lead's field changes, oldest first; ``field`` and ``since`` narrow them."""
    statement = select(LeadFieldChange).where(LeadFieldChange.lead_id == lead_id)
    if field is not None:
        statement = statement.where(LeadFieldChange.field == field)
    if since is not None:
        statement = statement.where(LeadFieldChange.changed_time >= since)
    return statement.order_by(LeadFieldChange.id)


def change_json(change: LeadFieldChange) -> dict[str, Any]:
    """A field change as the API shows it, with links to the event and its raw payload."""
    event = str(change.event_id) if change.event_id is not None else None
    return {
        "id": change.id,
        "field": change.field,
        "old_value": change.old_value,
        "new_value": change.new_value,
        "event": event,
        "event_url": f"/api/ingestion-events/{event}/" if event else None,
        "payload_url": f"/api/ingestion-events/{event}/payload/" if event else None,
        "mapping_version": change.mapping_version,
        "changed_time": iso(change.changed_time),
    }


# Rows one sweep deletes at most: a long backlog is cleared over several sweeps, never in one
# long statement that holds its locks.
PRUNE_BATCH = 5000


def prune_history(session: Session, older_than: dt.datetime, limit: int = PRUNE_BATCH) -> int:
    """Delete field changes made before ``older_than`` (the retention), at most ``limit``."""
    oldest = (
        select(LeadFieldChange.id)
        .where(LeadFieldChange.changed_time < older_than)
        .order_by(LeadFieldChange.changed_time)
        .limit(limit)
    )
    result = session.execute(delete(LeadFieldChange).where(LeadFieldChange.id.in_(oldest)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def dnc_statement(lead_id: int) -> Select[DncChange]:
    """The lead's DNC ledger, oldest first."""
    return select(DncChange).where(DncChange.lead_id == lead_id).order_by(DncChange.id)


def dnc_json(change: DncChange) -> dict[str, Any]:
    """A DNC ledger row as the API shows it."""
    event = str(change.event_id) if change.event_id is not None else None
    return {
        "id": change.id,
        "channel": change.channel,
        "old_value": change.old_value,
        "new_value": change.new_value,
        "door": change.door,
        "event": event,
        "event_url": f"/api/ingestion-events/{event}/" if event else None,
        "changed_time": iso(change.changed_time),
    }


def consent_statement(lead_id: int) -> Select[ConsentRecord]:
    """The lead's consent records, oldest first."""
    return select(ConsentRecord).where(ConsentRecord.lead_id == lead_id).order_by(ConsentRecord.id)


def consent_json(record: ConsentRecord) -> dict[str, Any]:
    """A consent record as the API shows it."""
    event = str(record.event_id) if record.event_id is not None else None
    return {
        "id": record.id,
        "trustedform_cert_url": record.trustedform_cert_url,
        "jornaya_leadid": record.jornaya_leadid,
        "text": record.text,
        "ip": record.ip,
        "time": iso(record.consent_time),
        "source": record.source,
        "event": event,
        "event_url": f"/api/ingestion-events/{event}/" if event else None,
        "recorded_time": iso(record.recorded_time),
    }
