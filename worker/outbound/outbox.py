"""The outbox: a lead change's deliveries, inserted in the transaction that made the change.

A worker that dies after the commit still delivers (the rows are there for the sender and the
sweeper); one that dies before it delivers nothing; a change is never queued twice, because the
event row that guards the change commits with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy.orm import Session

from models import Lead
from models.base import utcnow
from models.webhook import DeliveryStatus, WebhookDelivery, WebhookTrigger
from worker.outbound.bodies import delivery_body
from worker.outbound.filters import passes
from worker.outbound.subscriptions import subscriptions
from worker.outbound.templates import render_url


class LeadChange(Protocol):
    """An applied event's outcome: the lead as it stands now, the triggers the event fired, and
    where the ids of the deliveries queued for it are put."""

    lead: Lead | None
    triggers: list[WebhookTrigger]
    # The lead's JSON as the event left it; a new lead's id is only known after the flush.
    snapshot: dict[str, Any] | None
    delivery_ids: list[int]


def new_message_id() -> str:
    """A Standard Webhooks message id: ``msg_`` and 32 hex digits."""
    return "msg_" + uuid.uuid4().hex


def queue_deliveries(session: Session, changes: Iterable[LeadChange]) -> list[int]:
    """Insert a delivery per matching webhook and trigger; the new deliveries' ids.

    Each change's own ids go on its ``delivery_ids``, for sending once the transaction has
    committed. Call after the flush that gave new leads their ids, in the transaction of the
    change. Costs one cached lookup per organization when it has no webhooks.
    """
    now = utcnow()
    rows = []
    owners: list[LeadChange] = []
    for change in changes:
        if change.lead is None or change.snapshot is None or not change.triggers:
            continue
        if change.lead.is_test:
            # A provider's test run must never reach the customer's systems; the provider's own
            # outcome callbacks still go (worker.outbound.callbacks).
            continue
        lead = change.lead
        hooks = subscriptions(session, lead.organization_id)
        wanted = [hook for hook in hooks if hook.trigger in change.triggers]
        if not wanted:
            continue
        payload = {**change.snapshot, "id": lead.id}
        for hook in wanted:
            if not passes(hook.filter_condition, payload):
                continue
            rows.append(
                {
                    "message_id": new_message_id(),
                    "webhook_id": hook.webhook_id,
                    "organization_id": lead.organization_id,
                    "lead_id": lead.id,
                    "trigger": hook.trigger,
                    "url": render_url(hook.url, payload),
                    "body": delivery_body(hook.payload_format, hook.trigger, payload, now),
                    "status": DeliveryStatus.pending,
                    "attempt_count": 0,
                    "attempts": [],
                    "next_attempt_time": now,
                    "created_time": now,
                }
            )
            owners.append(change)
    if not rows:
        return []
    # One statement; the ids come back in insert order, which is the per-lead send order.
    statement = insert(WebhookDelivery).returning(WebhookDelivery.id, sort_by_parameter_order=True)
    ids = list(session.scalars(statement, rows))
    for change, delivery_id in zip(owners, ids, strict=True):
        change.delivery_ids.append(delivery_id)
    return ids
