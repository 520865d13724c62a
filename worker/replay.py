"""Replaying failed and dead events: back to queued, through the same path as a first delivery."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.settings import get_settings
from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from models.ingestion_event import events_id_conditions
from worker.observe import event_replayed

REPLAYABLE = (EventStatus.failed, EventStatus.dead)


class NotReplayable(ValueError):
    """An event that cannot be replayed; the message says why."""


def why_not_replayable(status: EventStatus) -> str:
    """The reason an event in ``status`` is not replayed."""
    if status == EventStatus.done:
        return "this event is done; replaying it would apply it twice"
    if status == EventStatus.held:
        return "this event is held with its config; release the config to process it"
    return f"this event is still {status.value}; it will finish by itself"


def purged_note(event: IngestionEvent) -> str | None:
    """ "the raw body was purged on …" for an event whose body the retention emptied, else None."""
    if event.raw_body_purged_time is None:
        return None
    day = event.raw_body_purged_time.astimezone(dt.UTC).date().isoformat()
    return f"the raw body was purged on {day} (LEADGATE_RAW_BODY_RETENTION_DAYS)"


def replay_refusal(event: IngestionEvent) -> str | None:
    """Why ``event`` cannot be replayed, or None when it can."""
    purged = purged_note(event)
    if purged is not None:
        # Checked first: with no body there is nothing a replay could read, whatever the status.
        return f"{purged}; there is nothing left to replay"
    if event.status not in REPLAYABLE:
        return why_not_replayable(event.status)
    return None


def requeue_events(session: Session, event_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Set failed or dead events among ``event_ids`` back to queued; returns the ones that were.

    The status change is a compare-and-set, so of two replays racing on one event exactly one
    requeues it. Attempts start again from zero; the event keeps its receive order, so a replay
    that lands behind newer updates of its lead only fills what they left empty (I3). The replay
    time goes into the same row, so the worker that claims it times the replay from then.
    """
    if not event_ids:
        return []
    now = utcnow()
    requeued = list(
        session.scalars(
            update(IngestionEvent)
            .where(
                *events_id_conditions(IngestionEvent.id, IngestionEvent.received_time, event_ids),
                IngestionEvent.status.in_(REPLAYABLE),
                IngestionEvent.raw_body_purged_time.is_(None),
            )
            .values(
                status=EventStatus.queued,
                attempts=0,
                errors=[],
                last_error=None,
                # As at receipt: the sweeper looks again one stuck-after interval from now, if
                # no worker has taken it by then (an old receive time alone would make it due).
                next_attempt_time=now + get_settings().stuck_after,
                processed_time=None,
                replayed_time=now,
            )
            .returning(IngestionEvent.id)
        )
    )
    event_replayed(requeued)
    return requeued


def select_replayable(
    session: Session,
    statuses: Sequence[EventStatus] = REPLAYABLE,
    config_id: uuid.UUID | None = None,
    since: dt.datetime | None = None,
    organization_id: int | None = None,
) -> list[uuid.UUID]:
    """Ids of failed/dead events matching the filters, oldest first."""
    if any(status not in REPLAYABLE for status in statuses):
        raise NotReplayable("only failed and dead events can be replayed")
    query = select(IngestionEvent.id).where(IngestionEvent.status.in_(statuses))
    if config_id is not None:
        query = query.where(IngestionEvent.config_id == config_id)
    if since is not None:
        query = query.where(IngestionEvent.received_time >= since)
    if organization_id is not None:
        query = query.where(IngestionEvent.organization_id == organization_id)
    return list(session.scalars(query.order_by(IngestionEvent.seq)))
