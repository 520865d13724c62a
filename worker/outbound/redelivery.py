"""Sending finished deliveries again: one rule for the API and the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery

REDELIVERABLE = (DeliveryStatus.delivered, DeliveryStatus.failed)


def redeliver(session: Session, delivery_ids: Sequence[int]) -> list[int]:
    """Make finished deliveries of enabled webhooks (or callbacks) pending again; their ids.

    The same message (``webhook-id`` and body) goes out again, with a fresh round of the retry
    schedule. A delivery still pending or being sent, or one of a disabled webhook, is left as
    it is; redelivering the same one from two places queues it once.
    """
    if not delivery_ids:
        return []
    enabled = select(Webhook.id).where(Webhook.disabled.is_(False))
    return list(
        session.scalars(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(delivery_ids),
                WebhookDelivery.status.in_(REDELIVERABLE),
                # A provider callback has no webhook to be disabled.
                or_(
                    WebhookDelivery.webhook_id.in_(enabled),
                    WebhookDelivery.ingestion_config_id.is_not(None),
                ),
            )
            .values(
                status=DeliveryStatus.pending,
                attempt_count=0,
                next_attempt_time=utcnow(),
                finished_time=None,
            )
            .returning(WebhookDelivery.id)
        )
    )


def failed_since(session: Session, since: dt.datetime, webhook_id: int | None = None) -> list[int]:
    """Failed deliveries created since ``since`` (of one webhook, if given), oldest first."""
    statement = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.failed,
            WebhookDelivery.created_time >= since,
        )
        .order_by(WebhookDelivery.id)
    )
    if webhook_id is not None:
        statement = statement.where(WebhookDelivery.webhook_id == webhook_id)
    return list(session.scalars(statement))
