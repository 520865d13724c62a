"""Finding events that need another push: lost by the broker, orphaned by a dead worker, overdue."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus


def claim_due_events(
    session: Session, stuck_after_seconds: float, limit: int = 500
) -> list[uuid.UUID]:
    """Pick events to re-enqueue and push their next check one interval away.

    Queued events are picked once they have waited ``stuck_after_seconds`` (the broker lost them
    or was down); processing ones once their lease ran out (the worker died); retrying ones once
    overdue by that long (the retry message was lost). ``SKIP LOCKED`` and the pushed-back time
    keep several sweepers from enqueueing the same event twice in one round.
    """
    now = utcnow()
    stuck_before = now - dt.timedelta(seconds=stuck_after_seconds)
    due = (
        select(IngestionEvent.id)
        .where(
            or_(
                (IngestionEvent.status == EventStatus.queued)
                & (IngestionEvent.received_time < stuck_before)
                & (
                    IngestionEvent.next_attempt_time.is_(None)
                    | (IngestionEvent.next_attempt_time < now)
                ),
                (IngestionEvent.status == EventStatus.processing)
                & (IngestionEvent.next_attempt_time < now),
                (IngestionEvent.status == EventStatus.retrying)
                & (IngestionEvent.next_attempt_time < stuck_before),
            )
        )
        .order_by(IngestionEvent.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    event_ids = list(session.scalars(due))
    if event_ids:
        next_check = now + dt.timedelta(seconds=stuck_after_seconds)
        # An expired lease means the attempt died with its worker: it becomes a retry.
        session.execute(
            update(IngestionEvent)
            .where(
                IngestionEvent.id.in_(event_ids),
                IngestionEvent.status == EventStatus.processing,
            )
            .values(status=EventStatus.retrying, next_attempt_time=next_check)
        )
        session.execute(
            update(IngestionEvent)
            .where(
                IngestionEvent.id.in_(event_ids),
                IngestionEvent.status.in_((EventStatus.queued, EventStatus.retrying)),
            )
            .values(next_attempt_time=next_check)
        )
    return event_ids
