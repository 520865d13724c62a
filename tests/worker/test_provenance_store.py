"""Field history, DNC ledger and consent rows as the batch writes them, in one statement each."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import DncChange, IngestionEvent, Lead, LeadFieldChange
from tests.support.factories import Tenant, make_event, make_tenant
from worker.ingest.claims import claim_event, prepare_claim
from worker.ingest.pipeline import process_claims


def _process(
    session: Session, tenant: Tenant, payload: dict[str, Any], keep_history: bool = True
) -> IngestionEvent:
    event = make_event(session, tenant, json.dumps(payload).encode())
    claim = claim_event(session, event.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    process_claims(session, [(claim, prepare_claim(claim))], keep_history=keep_history)
    session.expire_all()
    return event


def _changes(session: Session, lead_id: int) -> dict[str, tuple[object, object]]:
    rows = session.scalars(select(LeadFieldChange).where(LeadFieldChange.lead_id == lead_id))
    return {row.field: (row.old_value, row.new_value) for row in rows}


def test_history_rows_keep_each_value_with_its_json_type(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    payload = {"phone_number": "2024561111", "metadata": {"amount": 12.5, "tags": ["a"]}}
    event = _process(db_session, tenant, payload)
    lead = db_session.scalars(select(Lead).where(Lead.organization_id == tenant.organization_id))
    (created,) = lead.all()
    changes = _changes(db_session, created.id)
    # A value the lead did not have is SQL NULL, not a JSON null.
    assert changes["phone_number"] == (None, "+12024561111")
    assert changes["metadata.amount"] == (None, 12.5)
    assert changes["metadata.tags"] == (None, ["a"])
    nulls = db_session.scalar(
        select(func.count()).where(
            LeadFieldChange.lead_id == created.id, LeadFieldChange.old_value.is_(None)
        )
    )
    assert nulls == len(changes)
    row = db_session.scalars(
        select(LeadFieldChange).where(LeadFieldChange.lead_id == created.id)
    ).first()
    assert row is not None and row.event_id == event.id and row.changed_time.tzinfo is not None


def test_without_history_the_dnc_ledger_is_still_written(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    _process(db_session, tenant, {"phone_number": "2024561111"}, keep_history=False)
    _process(db_session, tenant, {"phone_number": "2024561111", "sms_dnc": True}, False)
    (lead,) = db_session.scalars(
        select(Lead).where(Lead.organization_id == tenant.organization_id)
    ).all()
    assert lead.sms_dnc is True
    assert _changes(db_session, lead.id) == {}
    ledger = db_session.scalars(select(DncChange).where(DncChange.lead_id == lead.id)).all()
    assert [(row.channel, row.old_value, row.new_value) for row in ledger] == [("sms", False, True)]
