"""Answering a wake-up: find the oldest fresh event of the config and attempt it with a batch."""

from __future__ import annotations

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
