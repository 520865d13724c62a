"""A factory for lead rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from models import Lead
from models.base import utcnow
from models.enums import LeadStatus, StatusReason
from tests.support.factories import Tenant


def make_lead(session: Session, tenant: Tenant, **fields: Any) -> Lead:
    """Insert a lead of the tenant with sensible defaults, overridden by ``fields``."""
    now = utcnow()
    values: dict[str, Any] = {
        "organization_id": tenant.organization_id,
        "campaign_id": tenant.campaign_id,
        "phone_number": "+14155552671",
        "status": LeadStatus.NEW,
        "status_reason": StatusReason.WEBHOOK,
        "lead_metadata": {},
        "created_time": now,
        "modified_time": now,
        "received_time": now,
        "last_event_seq": 0,
    }
    values.update(fields)
    lead = Lead(**values)
    session.add(lead)
    session.flush()
    return lead


def days_ago(days: float) -> dt.datetime:
    """A time ``days`` before now."""
    return utcnow() - dt.timedelta(days=days)
