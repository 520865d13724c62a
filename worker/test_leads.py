"""Test leads past their time to live: deleted by the sweeper, their events kept.

A test lead exists to prove an integration, not to be kept: after ``LEADGATE_TEST_LEAD_TTL_HOURS``
the periodic sweep (``leadgate.sweep``) deletes it. Its events stay, as the audit log of what was
sent, with their lead id cleared (the foreign key would refuse the delete otherwise); its field
history goes with it (deleted here: that table has no foreign keys, see models.lead_field_change),
and so do its consent records and DNC ledger (their foreign keys cascade).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead, LeadFieldChange
from models.lead import TEST_LEADS
from models.webhook import WebhookDelivery

# Leads one sweep deletes at most: a large test run is cleared over several sweeps, never in one
# long statement holding its locks.
DELETE_BATCH = 1000


def delete_expired_test_leads(
    session: Session, created_before: dt.datetime, limit: int = DELETE_BATCH
) -> int:
    """Delete test leads created before ``created_before``, at most ``limit``; how many went."""
    expired = list(
        session.scalars(
            select(Lead.id)
            # The partial index's own predicate as text, so a generic plan can still use it.
            .where(text(TEST_LEADS), Lead.created_time < created_before)
            .order_by(Lead.created_time)
            .limit(limit)
            # A test lead an event is writing right now is left to the next sweep.
            .with_for_update(skip_locked=True)
        )
    )
    if not expired:
        return 0
    session.execute(
        update(IngestionEvent).where(IngestionEvent.lead_id.in_(expired)).values(lead_id=None)
    )
    session.execute(
        update(IngestionEvent)
        .where(IngestionEvent.target_lead_id.in_(expired))
        .values(target_lead_id=None)
    )
    # The outbox never queues a delivery for a test lead; clearing any that names one keeps a
    # single stray row from failing every sweep's delete.
    session.execute(
        update(WebhookDelivery).where(WebhookDelivery.lead_id.in_(expired)).values(lead_id=None)
    )
    session.execute(delete(LeadFieldChange).where(LeadFieldChange.lead_id.in_(expired)))
    session.execute(delete(Lead).where(Lead.id.in_(expired)))
    return len(expired)
