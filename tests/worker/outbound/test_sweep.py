"""The delivery sweep: lost messages, dead senders, overdue retries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models.base import utcnow
from models.webhook import DeliveryStatus
from tests.support.factories import make_delivery, make_tenant, make_webhook
from tests.support.leads import make_lead
from worker.outbound.sweep import claim_due_deliveries


def test_the_sweep_picks_lost_and_orphaned_heads_of_line_only(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    hook = make_webhook(db_session, tenant.organization_id, "http://127.0.0.1:9/")
    one = make_lead(db_session, tenant, phone_number="+12024561111").id
    two = make_lead(db_session, tenant, phone_number="+12024561112").id
    three = make_lead(db_session, tenant, phone_number="+12024561113").id
    long_ago = utcnow() - dt.timedelta(minutes=5)
    lost = make_delivery(db_session, hook, one, next_attempt_time=long_ago)
    behind = make_delivery(db_session, hook, one, next_attempt_time=long_ago)
    orphaned = make_delivery(
        db_session, hook, two, status=DeliveryStatus.sending, next_attempt_time=long_ago
    )
    fresh = make_delivery(db_session, hook, three)  # just published: not overdue
    later = make_delivery(  # a retry due in an hour
        db_session, hook, three, next_attempt_time=utcnow() + dt.timedelta(hours=1)
    )
    done = make_delivery(db_session, hook, three, status=DeliveryStatus.delivered)
    # The sweep looks at every organization's deliveries: other tests' committed rows may be
    # due too, so only this test's are judged here.
    mine = {delivery.id for delivery in (lost, behind, orphaned, fresh, later, done)}

    due = [
        delivery_id for delivery_id in claim_due_deliveries(db_session, 15) if delivery_id in mine
    ]

    assert sorted(due) == sorted([lost.id, orphaned.id])
    db_session.refresh(orphaned)
    assert orphaned.status == DeliveryStatus.pending
    # Published again only when another grace period passes without it being sent.
    assert mine.isdisjoint(claim_due_deliveries(db_session, grace_seconds=15))
