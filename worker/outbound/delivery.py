"""A delivery's life in the database: claim it (head of line per lead), record each attempt.

Every function takes a session and never commits; ``worker.outbound.attempts`` decides the
transactions and sends in between, outside any transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.orm import Session, aliased

from models.base import utcnow
from models.webhook import CALLBACK_TRIGGER, DeliveryStatus, Webhook, WebhookDelivery
from worker.outbound.callback_keys import callback_keys
from worker.outbound.schedule import next_wait, retry_after_seconds
from worker.outbound.sending import Attempt, Request
from worker.outbound.signing import signing_secrets

UNFINISHED = (DeliveryStatus.pending, DeliveryStatus.sending)
# A message may arrive a moment before the time its delivery is due (a countdown is rounded).
EARLY_TOLERANCE = dt.timedelta(seconds=0.5)


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker now holds for one attempt (its ``attempt``-th)."""

    delivery_id: int
    attempt: int
    # None for a provider callback (worker.outbound.callbacks).
    webhook_id: int | None
    lead_id: int | None
    request: Request
    # Set when the webhook was disabled since: the delivery fails without being sent.
    disabled_reason: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What comes after an attempt: try again in ``retry_in`` seconds, or the next in line."""

    status: DeliveryStatus
    retry_in: float | None = None
    next_in_line: int | None = None


def older_unfinished() -> ColumnElement[bool]:
    """True while an older delivery of the same webhook and lead is still to be sent.

    Head of line per lead, never per endpoint: one lead's failing delivery holds back only
    that lead's later changes.
    """
    older = aliased(WebhookDelivery)
    return exists().where(
        older.webhook_id == WebhookDelivery.webhook_id,
        older.lead_id == WebhookDelivery.lead_id,
        older.id < WebhookDelivery.id,
        older.status.in_(UNFINISHED),
    )


def claim_delivery(
    session: Session, delivery_id: int, lease_seconds: float, secret_keys: tuple[str, ...] = ()
) -> Claimed | None:
    """Take a due delivery at the head of its lead's line; None when it is not that (yet).

    The attempt is counted here, so an attempt whose worker died still counts; the lease is
    how long the attempt may take before the sweeper hands the delivery to another worker.
    """
    now = utcnow()
    row = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.next_attempt_time <= now + EARLY_TOLERANCE,
            ~older_unfinished(),
        )
        .values(
            status=DeliveryStatus.sending,
            attempt_count=WebhookDelivery.attempt_count + 1,
            next_attempt_time=now + dt.timedelta(seconds=lease_seconds),
        )
        .returning(
            WebhookDelivery.attempt_count,
            WebhookDelivery.webhook_id,
            WebhookDelivery.lead_id,
            WebhookDelivery.url,
            WebhookDelivery.message_id,
            WebhookDelivery.body,
            WebhookDelivery.trigger,
            WebhookDelivery.ingestion_config_id,
        )
    ).one_or_none()
    if row is None:
        return None
    if row.webhook_id is None:
        assert row.ingestion_config_id is not None  # a check constraint guarantees one of them
        keys, refusal = callback_keys(session, row.ingestion_config_id, secret_keys, now)
        request = Request(row.url, row.message_id, row.body, CALLBACK_TRIGGER, keys)
        return Claimed(delivery_id, row.attempt_count, None, None, request, refusal)
    hook = session.get(Webhook, row.webhook_id)
    assert hook is not None  # deliveries go with their webhook (ON DELETE CASCADE)
    keys = signing_secrets(
        hook.secret, hook.previous_secret, hook.previous_secret_expires_time, now
    )
    request = Request(row.url, row.message_id, row.body, row.trigger.value, keys)
    reason = (hook.disabled_reason or "disabled") if hook.disabled else None
    return Claimed(delivery_id, row.attempt_count, row.webhook_id, row.lead_id, request, reason)


def _next_in_line(session: Session, claimed: Claimed) -> int | None:
    if claimed.lead_id is None:
        return None
    return session.scalar(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.webhook_id == claimed.webhook_id,
            WebhookDelivery.lead_id == claimed.lead_id,
            WebhookDelivery.status == DeliveryStatus.pending,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )


def _disable(hook: Webhook, reason: str) -> None:
    hook.disabled = True
    hook.disabled_reason = reason


def _judge(
    attempt: Attempt, attempt_number: int, schedule: tuple[float, ...]
) -> tuple[DeliveryStatus, float | None]:
    if attempt.succeeded:
        return DeliveryStatus.delivered, None
    if attempt.status_code == 410:
        return DeliveryStatus.failed, None
    retry_after = None
    if attempt.status_code in (429, 503):
        retry_after = retry_after_seconds(attempt.retry_after, attempt.time)
    wait = next_wait(attempt_number, schedule, retry_after)
    return (DeliveryStatus.failed, None) if wait is None else (DeliveryStatus.pending, wait)


def record_attempt(
    session: Session,
    claimed: Claimed,
    attempt: Attempt,
    schedule: tuple[float, ...],
    disable_after_seconds: float,
) -> Recorded | None:
    """Log the attempt and move the delivery on; None when the attempt lost its hold.

    2xx: delivered. 410: failed, and the webhook disabled. 429 and 503: again after their
    Retry-After. Anything else: again on the schedule, then failed. A webhook whose every
    attempt failed for ``disable_after_seconds`` is disabled, saying why.
    """
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.id == claimed.delivery_id,
            WebhookDelivery.status == DeliveryStatus.sending,
            WebhookDelivery.attempt_count == claimed.attempt,
        )
        .with_for_update()
    )
    if delivery is None:
        return None  # the lease ran out and another worker took it over: that attempt decides
    hook = None
    if claimed.webhook_id is not None:
        hook = session.get(Webhook, claimed.webhook_id, with_for_update=True)
        assert hook is not None
    now = utcnow()
    status, wait = _judge(attempt, claimed.attempt, schedule)
    delivery.attempts = [*delivery.attempts, attempt.as_log()]
    delivery.status = status
    if status == DeliveryStatus.pending:
        assert wait is not None
        delivery.next_attempt_time = now + dt.timedelta(seconds=wait)
    else:
        delivery.next_attempt_time = None
        delivery.finished_time = now
    # A provider callback is never disabled: the config's owner removes its URL instead.
    if hook is None:
        pass
    elif attempt.succeeded:
        hook.failing_since = None
    elif claimed.disabled_reason is None:
        hook.failing_since = hook.failing_since or now
        if attempt.status_code == 410:
            _disable(hook, "the receiver answered 410 Gone")
        elif (now - hook.failing_since).total_seconds() >= disable_after_seconds:
            _disable(hook, f"every delivery failed since {hook.failing_since.isoformat()}")
    session.flush()
    following = _next_in_line(session, claimed) if status != DeliveryStatus.pending else None
    return Recorded(status, wait, following)


def record_skipped(session: Session, claimed: Claimed) -> Recorded | None:
    """Fail a delivery that must not be sent (a disabled webhook, a removed callback)."""
    reason = claimed.disabled_reason
    if claimed.webhook_id is not None:
        reason = f"the webhook is disabled ({reason})"
    attempt = Attempt(utcnow(), 0, error=f"not sent: {reason}")
    return record_attempt(session, claimed, attempt, (), float("inf"))
