"""Finding deliveries that need another push: a lost message, a dead sender, an overdue retry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.webhook import UNFINISHED_DELIVERIES, DeliveryStatus, WebhookDelivery
from worker.outbound.delivery import older_unfinished

_UNFINISHED = text(UNFINISHED_DELIVERIES)


def claim_due_deliveries(session: Session, grace_seconds: float, limit: int = 500) -> list[int]:
    """Deliveries to publish again: pending ones overdue by ``grace_seconds`` and at the head
    of their line, and sending ones whose lease ran out (their worker died), which become
    pending again. A copy too many finds its delivery claimed and does nothing.
    """
    now = utcnow()
    # A dead sender's attempt is over: the delivery is due again at once.
    session.execute(
        update(WebhookDelivery)
        .where(
            _UNFINISHED,
            WebhookDelivery.status == DeliveryStatus.sending,
            WebhookDelivery.next_attempt_time < now,
        )
        .values(status=DeliveryStatus.pending, next_attempt_time=now - dt.timedelta(days=1))
    )
    due = list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                _UNFINISHED,
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_time < now - dt.timedelta(seconds=grace_seconds),
                ~older_unfinished(),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if due:
        # The next sweep publishes them again only if this round's messages were lost too.
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due), WebhookDelivery.status == DeliveryStatus.pending)
            .values(next_attempt_time=now)
        )
    return due
