"""How an organization's inbox stands: per config the last hour and day, the queue, 24 h by hour.

Read-only queries scoped to one organization; the console's overview shows them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from models.enums import EventStatus

PENDING = (EventStatus.queued, EventStatus.processing, EventStatus.retrying)
# The outcomes counted per window; "accepted" is every event received in it.
COUNTED = (EventStatus.done, EventStatus.failed, EventStatus.dead)
# Counted per config and window too: events waiting for their config's release.
WINDOW_COUNTED = (*COUNTED, EventStatus.held)
WINDOWS = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
CHART_HOURS = 24


@dataclass
class ConfigActivity:
    """One config's events received in the last hour and day, by outcome."""

    config_id: uuid.UUID
    name: str
    active: bool
    # {"hour": {"accepted": 12, "done": 10, "failed": 1, "dead": 0, "held": 0}, "day": {...}}
    windows: dict[str, dict[str, int]] = field(default_factory=dict)
    held: bool = False
    held_reason: str | None = None
    # The raised drift alarm (worker.health.drift), None when there is none.
    drift_alarm: dict[str, Any] | None = None
    # Events waiting for a release now, however long ago they came.
    held_events: int = 0


@dataclass(frozen=True)
class QueueState:
    """Events not finished yet, and how long the oldest of them has waited."""

    depth: int
    oldest_pending_seconds: float | None


@dataclass(frozen=True)
class HourBucket:
    """Events received in one hour: how many finished done and how many failed or died."""

    start: dt.datetime
    done: int
    failed: int


def config_activity(
    session: Session, organization_id: int, now: dt.datetime | None = None
) -> list[ConfigActivity]:
    """Every config of the organization with its last hour's and last day's counts."""
    now = now or utcnow()
    configs = session.execute(
        select(
            IngestionConfig.id,
            IngestionConfig.name,
            IngestionConfig.active,
            IngestionConfig.held,
            IngestionConfig.held_reason,
            IngestionConfig.drift_alarm,
        )
        .where(IngestionConfig.organization_id == organization_id)
        .order_by(IngestionConfig.created_time, IngestionConfig.id)
    ).all()
    activity = {
        row.id: ConfigActivity(
            row.id, row.name, row.active, {}, row.held, row.held_reason, row.drift_alarm
        )
        for row in configs
    }
    for window, length in WINDOWS.items():
        counts = session.execute(
            select(IngestionEvent.config_id, IngestionEvent.status, func.count())
            .where(
                IngestionEvent.organization_id == organization_id,
                IngestionEvent.received_time >= now - length,
            )
            .group_by(IngestionEvent.config_id, IngestionEvent.status)
        ).all()
        for entry in activity.values():
            entry.windows[window] = {"accepted": 0} | {s.value: 0 for s in WINDOW_COUNTED}
        for config_id, status, count in counts:
            tally = activity[config_id].windows[window]
            tally["accepted"] += count
            if status in WINDOW_COUNTED:
                tally[status.value] += count
    held_now = session.execute(
        select(IngestionEvent.config_id, func.count())
        .where(
            IngestionEvent.organization_id == organization_id,
            IngestionEvent.status == EventStatus.held,
        )
        .group_by(IngestionEvent.config_id)
    ).all()
    for config_id, count in held_now:
        activity[config_id].held_events = count
    return list(activity.values())


def queue_state(
    session: Session, organization_id: int, now: dt.datetime | None = None
) -> QueueState:
    """The organization's unfinished events and the age of the oldest."""
    now = now or utcnow()
    depth, oldest = session.execute(
        select(func.count(), func.min(IngestionEvent.received_time)).where(
            IngestionEvent.organization_id == organization_id,
            IngestionEvent.status.in_(PENDING),
        )
    ).one()
    return QueueState(depth, (now - oldest).total_seconds() if oldest is not None else None)


def hourly_outcomes(
    session: Session, organization_id: int, now: dt.datetime | None = None
) -> list[HourBucket]:
    """The last 24 hours, oldest first, by the hour events were received in."""
    now = now or utcnow()
    first = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=CHART_HOURS - 1)
    # Truncated in UTC, whatever the database session's time zone is.
    hour = func.date_trunc("hour", func.timezone("UTC", IngestionEvent.received_time))
    rows = session.execute(
        select(hour, IngestionEvent.status, func.count())
        .where(
            IngestionEvent.organization_id == organization_id,
            IngestionEvent.received_time >= first,
            IngestionEvent.status.in_(COUNTED),
        )
        .group_by(hour, IngestionEvent.status)
    ).all()
    done: dict[dt.datetime, int] = {}
    failed: dict[dt.datetime, int] = {}
    for start, status, count in rows:
        start = start.replace(tzinfo=dt.UTC)
        target = done if status == EventStatus.done else failed
        target[start] = target.get(start, 0) + count
    starts = [first + dt.timedelta(hours=offset) for offset in range(CHART_HOURS)]
    return [HourBucket(start, done.get(start, 0), failed.get(start, 0)) for start in starts]
