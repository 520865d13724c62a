"""Deleting test leads past their time to live: the function the sweep calls."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead, LeadFieldChange
from models.base import utcnow
from tests.support.factories import make_event, make_tenant
from tests.support.leads import make_lead
from worker.test_leads import delete_expired_test_leads


def _hours_ago(hours: float) -> dt.datetime:
    return utcnow() - dt.timedelta(hours=hours)


def test_only_test_leads_older_than_the_ttl_go_and_their_events_stay(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    expired = make_lead(db_session, tenant, is_test=True, created_time=_hours_ago(25))
    young = make_lead(db_session, tenant, is_test=True, created_time=_hours_ago(23))
    real = make_lead(db_session, tenant, created_time=_hours_ago(500))
    created = make_event(db_session, tenant, lead_id=expired.id, is_test=True)
    patched = make_event(db_session, tenant, target_lead_id=expired.id, is_test=True)
    for lead in (expired, real):
        db_session.add(LeadFieldChange(organization_id=tenant.organization_id, lead_id=lead.id,
                                       field="email", new_value="a@example.com"))  # fmt: skip
    db_session.flush()
    expired_id = expired.id

    assert delete_expired_test_leads(db_session, _hours_ago(24)) == 1

    db_session.expire_all()
    remaining = set(
        db_session.scalars(select(Lead.id).where(Lead.id.in_([expired_id, young.id, real.id])))
    )
    assert remaining == {young.id, real.id}
    for event in (created, patched):
        kept = db_session.get(IngestionEvent, event.id)
        assert kept is not None and kept.lead_id is None and kept.target_lead_id is None
    changes = db_session.scalars(
        select(LeadFieldChange).where(LeadFieldChange.lead_id == expired_id)
    )
    assert list(changes) == []
    # Only the deleted lead's history goes (the table has no foreign key to cascade it).
    assert db_session.scalars(
        select(LeadFieldChange.lead_id).where(LeadFieldChange.lead_id == real.id)
    ).all() == [real.id]
    assert delete_expired_test_leads(db_session, _hours_ago(24)) == 0


def test_a_sweep_deletes_at_most_its_batch(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    for _ in range(3):
        make_lead(db_session, tenant, is_test=True, created_time=_hours_ago(30))
    assert delete_expired_test_leads(db_session, _hours_ago(24), limit=2) == 2
    assert delete_expired_test_leads(db_session, _hours_ago(24), limit=2) == 1
