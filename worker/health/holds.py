"""Holding a config: its events wait as ``held`` until a release sends them on, oldest first.

A held config still accepts payloads (the webhook does not look at the hold): each is stored and
enqueued as usual, and the worker that claims it parks it here instead of processing it. The
sweeper never looks at held events. A release (worker.release_jobs) runs them in receive order,
with the config's mapping as it is then, and lifts the hold once none is left.

Parking and lifting the hold meet on the config row: parking reads the hold under a share lock
on it, lifting takes an update lock, so an event is either parked before the hold is lifted (and
the release walks it), or claimed after it and processed.
"""

from __future__ import annotations

import logging
import uuid
from typing import cast

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.base import utcnow

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
