"""Writing what applied events changed: field history, the DNC ledger, consent records.

Called after the batch's flush, so new leads have their ids. Each table takes a batch's rows in
one statement (``worker.ingest.recordset``), not one INSERT per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from models import ConsentRecord, DncChange, Lead, LeadFieldChange
from models.base import utcnow
from worker.ingest.claims import Claim
from worker.ingest.provenance import DNC_CHANNELS
from worker.ingest.recordset import insert_recordset

_CHANGES = cast(Table, LeadFieldChange.__table__)
_LEDGER = cast(Table, DncChange.__table__)
_CONSENTS = cast(Table, ConsentRecord.__table__)


def record_history(
    session: Session,
    history: Sequence[tuple[Lead, list[tuple[str, Any, Any]], Claim]],
    keep_fields: bool = True,
) -> None:
    """Write the field changes of the applied events in one statement (after the flush: ids).

    ``keep_fields`` False (a retention of 0 days) leaves the field history out; the DNC
    changes among them still go to the ledger.
    """
    # The rows travel as JSON (worker.ingest.recordset): the time and each event's id are
    # turned into text once, and each lead's attributes read once, not once per changed field.
    now = utcnow().isoformat()
    rows: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    for lead, changes, claim in history:
        shared = {
            "organization_id": lead.organization_id,
            "lead_id": lead.id,
            "event_id": str(claim.event_id),
            "changed_time": now,
        }
        version = claim.config.mapping_version
        for name, old, new in changes:
            if keep_fields:
                rows.append(
                    {**shared, "field": name, "old_value": old, "new_value": new,
                     "mapping_version": version}
                )  # fmt: skip
            # A new lead's flag that starts false is no change of anyone's wish.
            if name in DNC_CHANNELS and (new or old is not None):
                ledger.append(
                    {**shared, "channel": DNC_CHANNELS[name], "old_value": old, "new_value": new,
                     "door": claim.endpoint.value}
                )  # fmt: skip
    insert_recordset(session, _CHANGES, rows)
    # The DNC ledger outlives the field history's retention: it answers regulators.
    insert_recordset(session, _LEDGER, ledger)


def record_consents(
    session: Session, consents: Sequence[tuple[Lead, dict[str, Any], Claim]]
) -> None:
    """Append the consent evidence of the applied events, in one statement (ids known)."""
    if not consents:
        return
    now = utcnow()
    rows = [
        {
            "organization_id": lead.organization_id,
            "lead_id": lead.id,
            "trustedform_cert_url": given.get("trustedform_cert_url"),
            "jornaya_leadid": given.get("jornaya_leadid"),
            "text": given.get("text"),
            "ip": given.get("ip"),
            "consent_time": given.get("time"),
            "source": given.get("source"),
            "event_id": claim.event_id,
            "recorded_time": now,
        }
        for lead, given, claim in consents
    ]
    insert_recordset(session, _CONSENTS, rows)
