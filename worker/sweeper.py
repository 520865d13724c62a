"""Finding events that need another push: lost by the broker, orphaned by a dead worker, overdue."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, case, func, or_, select, text, true, update
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from models.ingestion_event import UNFINISHED_EVENTS, events_id_conditions

# The partial index's own predicate, as constants: a prepared statement's generic plan can use
# that index only when the query states its condition without parameters (with them, the sweep
# would read the whole inbox every interval once the planner went generic). models/db.py also asks
# for custom plans; this holds where that connection option is lost (behind a pooler, say).
_UNFINISHED = text(UNFINISHED_EVENTS)


def claim_due_events(
    session: Session,
    stuck_after_seconds: float,
    limit: int = 500,
    waiting_in_broker: int = 0,
    now: dt.datetime | None = None,
) -> list[uuid.UUID]:
    """Pick events to re-enqueue and push their next check one interval away.

    Queued events are picked once they have waited ``stuck_after_seconds`` (the broker lost them
    or was down; the inbox sets that first check at receipt, a replay at its requeue);
    processing ones once their lease ran out (the worker died); retrying ones once overdue by
    that long (the retry message was lost). ``SKIP LOCKED`` and the pushed-back time keep several
    sweepers from enqueueing the same event twice in one round.

    A queued event may also just be waiting behind a backlog, its message still in the broker;
    re-enqueued every interval, a backlog would feed itself with copies. So when the broker
    says ``waiting_in_broker`` messages wait, the queued events whose latest message went out
    last (the webhook's at receipt, else the sweeper's own copy, one interval before the next
    check it set) are taken to be those messages (the queue is first in, first out) and left
    alone. A copy would have queued behind them anyway; once the backlog drains, whatever is
    still queued is picked. ``now`` is the sweep's clock (the present unless given).
    """
    now = now or utcnow()
    stuck = dt.timedelta(seconds=stuck_after_seconds)
    stuck_before = now - stuck
    # A queued event's next check is set at receipt (received + stuck_after), so its branch is
    # one range of the sweeper's index; events stored without one are checked by receive time.
    lost_queued: ColumnElement[bool] = (IngestionEvent.status == EventStatus.queued) & (
        (IngestionEvent.next_attempt_time.is_(None) & (IngestionEvent.received_time < stuck_before))
        | (IngestionEvent.next_attempt_time < now)
    )
    if waiting_in_broker > 0:
        published = func.coalesce(
            IngestionEvent.next_attempt_time - stuck, IngestionEvent.received_time
        )
        last_waiting = session.scalar(
            select(published)
            .where(_UNFINISHED, IngestionEvent.status == EventStatus.queued)
            .order_by(published.desc())
            .offset(waiting_in_broker - 1)
            .limit(1)
        )
        # Fewer queued events than waiting messages: every one of them may be in the broker.
        still_waiting = true() if last_waiting is None else published >= last_waiting
        lost_queued = lost_queued & ~still_waiting
    due = (
        select(IngestionEvent.id)
        .where(
            _UNFINISHED,
            or_(
                lost_queued,
                (IngestionEvent.status == EventStatus.processing)
                & (IngestionEvent.next_attempt_time < now),
                (IngestionEvent.status == EventStatus.retrying)
                & (IngestionEvent.next_attempt_time < stuck_before),
            ),
        )
        .order_by(IngestionEvent.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    event_ids = list(session.scalars(due))
    if event_ids:
        # One statement for all of them; their ids' receive-time span keeps it to those months'
        # partitions. An expired lease means the attempt died with its worker: it becomes a
        # retry; queued and retrying events only have their next check pushed back.
        session.execute(
            update(IngestionEvent)
            .where(
                *events_id_conditions(IngestionEvent.id, IngestionEvent.received_time, event_ids),
                _UNFINISHED,
            )
            .values(
                status=case(
                    (IngestionEvent.status == EventStatus.processing, EventStatus.retrying),
                    else_=IngestionEvent.status,
                ),
                next_attempt_time=now + stuck,
            )
            # No event object of this session is touched here: nothing to bring up to date.
            .execution_options(synchronize_session=False)
        )
    return event_ids
