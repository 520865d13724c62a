"""Wake-ups in the worker: drain a config's fresh events batch by batch; find the stalled ones."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select, text
from sqlalchemy.orm import Session

from common.wakeups import clear_wake_pending
from models import IngestionEvent
from models.ingestion_event import FRESH_EVENTS
from worker.attempts import Verdict, attempt_event
from worker.database import autocommit_session

log = logging.getLogger(__name__)

_EVENTS = cast(Table, IngestionEvent.__table__)
# The fresh-events index's own predicate as text, as the claim states it, so the index serves it.
_OLDEST_FRESH = (
    select(_EVENTS.c.id)
    .where(_EVENTS.c.config_id == bindparam("config_id"), text(FRESH_EVENTS))
    .order_by(_EVENTS.c.seq)
    .limit(1)
)
# Each config with fresh events, one probe of the fresh-events index per config (a skip scan), and
# the receive time of its oldest one: a backlog of many events of few configs reads a few rows.
_STALLED_CONFIGS = text(
    f"""
    WITH RECURSIVE configs(config_id) AS (
        (SELECT config_id FROM ingestion_events WHERE {FRESH_EVENTS}
         ORDER BY config_id LIMIT 1)
        UNION ALL
        SELECT (SELECT later.config_id FROM ingestion_events AS later
                WHERE {FRESH_EVENTS} AND later.config_id > configs.config_id
                ORDER BY later.config_id LIMIT 1)
        FROM configs WHERE configs.config_id IS NOT NULL
    )
    SELECT configs.config_id FROM configs
    CROSS JOIN LATERAL (
        SELECT received_time FROM ingestion_events AS oldest
        WHERE oldest.config_id = configs.config_id AND {FRESH_EVENTS}
        ORDER BY oldest.seq LIMIT 1
    ) AS oldest
    WHERE oldest.received_time < :received_before
    ORDER BY configs.config_id
    """  # noqa: S608 (the predicate is our constant)
)


@dataclass(frozen=True)
class Drained:
    """What one wake-up did: the event it named (None: nothing fresh), the attempt's verdict,
    and whether fresh events are still waiting for another wake-up."""

    event_id: uuid.UUID | None
    verdict: Verdict
    more_waiting: bool


def oldest_fresh_event(session: Session, config_id: uuid.UUID) -> uuid.UUID | None:
    """The config's oldest event that is queued and was never tried, if any."""
    found: uuid.UUID | None = (
        session.connection().execute(_OLDEST_FRESH, {"config_id": config_id}).scalar()
    )
    return found


def stalled_configs(session: Session, received_before: dt.datetime) -> list[uuid.UUID]:
    """Configs whose oldest fresh event was received before ``received_before``.

    A fresh event older than a wake-up's pending window has outlived the wake-up meant for it:
    lost on the way, or held unacknowledged by a worker that died (the broker gives such a
    message back only after its visibility timeout). The sweeper wakes these configs again, so
    such events wait one sweep interval, not until the sweeper's much later check of each event.
    """
    rows = session.connection().execute(_STALLED_CONFIGS, {"received_before": received_before})
    return [row[0] for row in rows]


def drain_once(config_id: uuid.UUID) -> Drained:
    """Release the wake-up, then attempt the oldest fresh event with the batch behind it."""
    try:
        clear_wake_pending(config_id)
    except Exception as error:  # the mark expires by itself; the claim below still runs
        log.warning("wake-up for %s not released: %s", config_id, type(error).__name__)
    with autocommit_session() as session:
        event_id = oldest_fresh_event(session, config_id)
    if event_id is None:
        return Drained(None, Verdict(), more_waiting=False)
    verdict = attempt_event(event_id)
    with autocommit_session() as session:
        more_waiting = oldest_fresh_event(session, config_id) is not None
    return Drained(event_id, verdict, more_waiting)
