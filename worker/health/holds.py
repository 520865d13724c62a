"""Holding a config: its events wait as ``held`` until a release sends them on, oldest first.

A held config still accepts payloads (the webhook does not look at the hold): each is stored and
enqueued as usual, and the worker that claims it parks it here instead of processing it. The
sweeper never looks at held events. A release puts them back in the queue in receive order, to
be processed with the config's mapping as it is then.

Parking and releasing meet on the config row: parking reads the hold under a share lock on it,
releasing changes the hold under an update lock, so an event is either parked before the release
takes the held events (and goes with them), or claimed after it and processed.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import cast

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from models.ingestion_event import HELD_EVENTS

log = logging.getLogger("worker.events")

MANUAL = "manual"
DRIFT = "drift"

_EVENTS = cast(Table, IngestionEvent.__table__)
_CONFIGS = cast(Table, IngestionConfig.__table__)

# The claim counted an attempt; a parked event has not been tried, so it gives it back.
_PARK = text(
    "WITH hold AS ("
    "  SELECT id FROM ingestion_configs WHERE id = :config_id AND held FOR SHARE"
    ") "
    "UPDATE ingestion_events SET status = 'held', attempts = attempts - 1, "
    "next_attempt_time = NULL "
    "WHERE id = :event_id AND status = 'processing' AND attempts = :attempt "
    "AND config_id IN (SELECT id FROM hold) "
    "RETURNING id"
)

_RELEASE = (
    update(_EVENTS)
    .where(_EVENTS.c.config_id == bindparam("of_config"), text(HELD_EVENTS))
    .values(status=EventStatus.queued.value, next_attempt_time=bindparam("next_check"))
    .returning(_EVENTS.c.id, _EVENTS.c.seq)
)


def park_if_held(session: Session, event_id: uuid.UUID, config_id: uuid.UUID, attempt: int) -> bool:
    """Park the just-claimed event as held when its config is held now; True if it was."""
    values = {"config_id": config_id, "event_id": event_id, "attempt": attempt}
    if session.execute(_PARK, values).one_or_none() is None:
        return False
    fields = {"event_id": str(event_id), "config": str(config_id), "change": "held"}
    log.info("event held: its config is held", extra=fields | {"status": "held"})
    return True


def hold_config(config: IngestionConfig, reason: str = MANUAL) -> bool:
    """Hold the config (locked by the caller); False when it was held already."""
    if config.held:
        return False
    config.held, config.held_reason, config.held_time = True, reason, utcnow()
    return True


def release_config(
    session: Session, config: IngestionConfig, recheck_after_seconds: float
) -> list[uuid.UUID]:
    """Lift the hold and clear the drift alarm; the held events, queued again, oldest first.

    The caller locked the config (``for_update``), publishes the events once this has committed,
    and leaves the rest to the sweeper: each event's next check is ``recheck_after_seconds``
    away, as for the sweeper's own copies, so a message still in the broker is not doubled.
    """
    config.held, config.held_reason, config.held_time = False, None, None
    config.drift_alarm = None
    session.flush()
    next_check = utcnow() + dt.timedelta(seconds=recheck_after_seconds)
    rows = session.connection().execute(
        _RELEASE, {"of_config": config.id, "next_check": next_check}
    )
    return [row.id for row in sorted(rows, key=lambda row: row.seq)]
