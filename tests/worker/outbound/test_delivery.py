"""A delivery's life in the database: head of line per lead, attempts, giving up, disabling."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models import Webhook, WebhookDelivery
from models.base import utcnow
from models.webhook import DeliveryStatus
from tests.support.factories import make_delivery, make_tenant, make_webhook
from tests.support.leads import make_lead
from worker.outbound.delivery import Claimed, Recorded, claim_delivery, record_attempt
from worker.outbound.sending import Attempt

URL = "http://127.0.0.1:9/hook"
SCHEDULE = (0.0, 1.0, 2.0)
FIVE_DAYS = 5 * 86400.0


def _attempt(status: int | None, retry_after: str | None = None) -> Attempt:
    return Attempt(utcnow(), 5, status_code=status, retry_after=retry_after)


def _record(
    session: Session, claimed: Claimed, status: int | None, retry_after: str | None = None
) -> Recorded:
    recorded = record_attempt(session, claimed, _attempt(status, retry_after), SCHEDULE, FIVE_DAYS)
    assert recorded is not None
    return recorded


def _world(session: Session) -> tuple[Webhook, int, int]:
    tenant = make_tenant(session)
    hook = make_webhook(session, tenant.organization_id, URL)
    first = make_lead(session, tenant, phone_number="+12024561111")
    second = make_lead(session, tenant, phone_number="+12024561112")
    return hook, first.id, second.id


def test_a_newer_change_waits_for_its_lead_but_not_for_other_leads(db_session: Session) -> None:
    hook, lead, other_lead = _world(db_session)
    older = make_delivery(db_session, hook, lead)
    newer = make_delivery(db_session, hook, lead)
    other = make_delivery(db_session, hook, other_lead)

    assert claim_delivery(db_session, newer.id, 60) is None
    assert claim_delivery(db_session, other.id, 60) is not None
    claimed = claim_delivery(db_session, older.id, 60)
    assert claimed is not None and claimed.attempt == 1
    # Still being sent: the newer one waits on.
    assert claim_delivery(db_session, newer.id, 60) is None

    recorded = _record(db_session, claimed, 204)

    assert recorded.status == DeliveryStatus.delivered
    assert recorded.next_in_line == newer.id
    assert claim_delivery(db_session, newer.id, 60) is not None


def test_failures_follow_the_schedule_then_the_delivery_fails(db_session: Session) -> None:
    hook, lead, _ = _world(db_session)
    delivery = make_delivery(db_session, hook, lead)
    waits = []
    for _ in SCHEDULE:
        delivery.next_attempt_time = utcnow()  # due now, whatever the wait was
        db_session.flush()
        claimed = claim_delivery(db_session, delivery.id, 60)
        assert claimed is not None
        waits.append(_record(db_session, claimed, 500).retry_in)

    assert waits[0] is not None and 0.9 <= waits[0] <= 1.1
    assert waits[1] is not None and 1.8 <= waits[1] <= 2.2
    assert waits[2] is None
    db_session.refresh(delivery)
    assert delivery.status == DeliveryStatus.failed and delivery.finished_time is not None
    assert [a["status_code"] for a in delivery.attempts] == [500, 500, 500]
    assert claim_delivery(db_session, delivery.id, 60) is None


def test_a_429_waits_as_long_as_retry_after_says(db_session: Session) -> None:
    hook, lead, _ = _world(db_session)
    delivery = make_delivery(db_session, hook, lead)
    claimed = claim_delivery(db_session, delivery.id, 60)
    assert claimed is not None

    recorded = _record(db_session, claimed, 429, retry_after="40")

    assert recorded.retry_in == 40.0
    db_session.refresh(delivery)
    assert delivery.status == DeliveryStatus.pending
    assert delivery.next_attempt_time is not None
    wait = (delivery.next_attempt_time - utcnow()).total_seconds()
    assert 38 < wait <= 40
    assert claim_delivery(db_session, delivery.id, 60) is None  # not due yet


def test_410_disables_the_webhook_and_later_deliveries_are_not_sent(db_session: Session) -> None:
    hook, lead, _ = _world(db_session)
    gone = make_delivery(db_session, hook, lead)
    later = make_delivery(db_session, hook, lead)
    claimed = claim_delivery(db_session, gone.id, 60)
    assert claimed is not None

    recorded = _record(db_session, claimed, 410)

    db_session.refresh(hook)
    assert recorded.status == DeliveryStatus.failed
    assert hook.disabled and hook.disabled_reason == "the receiver answered 410 Gone"
    next_claim = claim_delivery(db_session, later.id, 60)
    assert next_claim is not None and next_claim.disabled_reason is not None


def test_a_webhook_failing_for_days_is_disabled_saying_since_when(db_session: Session) -> None:
    hook, lead, _ = _world(db_session)
    hook.failing_since = utcnow() - dt.timedelta(days=5, minutes=1)
    delivery = make_delivery(db_session, hook, lead)
    claimed = claim_delivery(db_session, delivery.id, 60)
    assert claimed is not None

    _record(db_session, claimed, 500)

    db_session.refresh(hook)
    assert hook.disabled
    assert (hook.disabled_reason or "").startswith("every delivery failed since ")


def test_a_success_clears_the_failing_streak(db_session: Session) -> None:
    hook, lead, _ = _world(db_session)
    hook.failing_since = utcnow() - dt.timedelta(days=1)
    delivery = make_delivery(db_session, hook, lead)
    claimed = claim_delivery(db_session, delivery.id, 60)
    assert claimed is not None

    _record(db_session, claimed, 200)

    db_session.refresh(hook)
    assert hook.failing_since is None and not hook.disabled


def test_an_attempt_taken_over_records_nothing(db_session: Session) -> None:
    hook, lead, _ = _world(db_session)
    delivery = make_delivery(db_session, hook, lead)
    first = claim_delivery(db_session, delivery.id, 60)
    assert first is not None
    # Its lease ran out and the sweeper handed it to another worker.
    delivery.status, delivery.next_attempt_time = DeliveryStatus.pending, utcnow()
    db_session.flush()
    second = claim_delivery(db_session, delivery.id, 60)
    assert second is not None and second.attempt == 2

    assert record_attempt(db_session, first, _attempt(200), SCHEDULE, FIVE_DAYS) is None
    row = db_session.get(WebhookDelivery, delivery.id)
    assert row is not None and row.status == DeliveryStatus.sending
