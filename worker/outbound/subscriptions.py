"""An organization's active lead webhooks, cached briefly per process.

Every applied event asks; most organizations have no webhooks, so the answer (even an empty
one) is kept for ``CACHE_SECONDS`` rather than queried per event. A webhook created, changed or
disabled takes effect within that time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.webhook import PayloadFormat, Webhook, WebhookTrigger

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Subscription:
    """What the outbox needs of a webhook, detached from any session."""

    webhook_id: int
    trigger: WebhookTrigger
    url: str
    filter_condition: str | None
    payload_format: PayloadFormat


_cache: dict[int, tuple[float, tuple[Subscription, ...]]] = {}
_lock = threading.Lock()


def forget_subscriptions() -> None:
    """Drop the cache (tests, and after a webhook changes in this process)."""
    with _lock:
        _cache.clear()


def _load(session: Session, organization_id: int) -> tuple[Subscription, ...]:
    rows = session.execute(
        select(
            Webhook.id,
            Webhook.trigger,
            Webhook.url,
            Webhook.filter_condition,
            Webhook.payload_format,
        )
        .where(Webhook.organization_id == organization_id, Webhook.disabled.is_(False))
        .order_by(Webhook.id)
    ).all()
    return tuple(Subscription(*row) for row in rows)


def subscriptions(
    session: Session, organization_id: int, ttl: float = CACHE_SECONDS
) -> tuple[Subscription, ...]:
    """The organization's enabled webhooks, from the cache when it is fresh."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(organization_id)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    loaded = _load(session, organization_id)
    with _lock:
        _cache[organization_id] = (now, loaded)
    return loaded
