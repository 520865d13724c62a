"""Publishing events to the broker by task name, without importing the worker's code."""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from celery import Celery

log = logging.getLogger(__name__)

PROCESS_EVENT_TASK = "leadgate.process_event"


@lru_cache(maxsize=1)
def _client() -> Celery:
    client = Celery("leadgate-webhook")
    client.config_from_object("celeryconfig")
    return client


def enqueue_event(event_id: uuid.UUID) -> bool:
    """Publish one event for processing; False when the broker could not take it.

    The event is already committed to the inbox, so a failed publish loses nothing: the sweeper
    enqueues events that stay ``queued``.
    """
    try:
        _client().send_task(PROCESS_EVENT_TASK, args=[str(event_id)], retry=False)
    except Exception as error:  # any broker failure is handled the same way: leave it queued
        log.warning("broker unavailable, event %s left queued: %s", event_id, type(error).__name__)
        return False
    return True


def broker_reachable() -> bool:
    """True when a connection to the broker can be opened now."""
    try:
        with _client().connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # unreachable for whatever reason
        return False
    return True
