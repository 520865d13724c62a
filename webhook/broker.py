"""Publishing events to the broker by task name, without importing the worker's code."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

from celery import Celery

log = logging.getLogger(__name__)

PROCESS_EVENT_TASK = "leadgate.process_event"
# A broker that takes connections but never answers (hung, or behind a dropped route) costs a
# publish the whole socket timeout. After one such timeout this process skips publishing for a
# while and leaves new events to the sweeper, so providers keep getting a prompt 202. A refused
# connection fails at once and needs no pause.
PAUSE_AFTER_TIMEOUT_SECONDS = 10.0


@dataclass
class _PublishPause:
    until: float = 0.0


_pause = _PublishPause()


@lru_cache(maxsize=1)
def _client() -> Celery:
    client = Celery("leadgate-webhook")
    client.config_from_object("celeryconfig")
    # A provider waits on this publish: connect once and never sleep between retries (kombu
    # waits 2 s before each one). What cannot be published now, the sweeper enqueues later.
    client.conf.broker_transport_options = {
        **client.conf.broker_transport_options,
        "max_retries": 0,
        "socket_timeout": 2,
    }
    return client


def enqueue_event(event_id: uuid.UUID) -> bool:
    """Publish one event for processing; False when the broker could not take it.

    The event is already committed to the inbox, so a failed publish loses nothing: the sweeper
    enqueues events that stay ``queued``.
    """
    if time.monotonic() < _pause.until:
        return False
    try:
        _client().send_task(PROCESS_EVENT_TASK, args=[str(event_id)], retry=False)
    except Exception as error:  # any broker failure is handled the same way: leave it queued
        log.warning("broker unavailable, event %s left queued: %s", event_id, type(error).__name__)
        if _timed_out(error):
            _pause.until = time.monotonic() + PAUSE_AFTER_TIMEOUT_SECONDS
        return False
    return True


def _timed_out(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, TimeoutError):
            return True
        error = error.__cause__ or error.__context__
    return False


def broker_reachable() -> bool:
    """True when a connection to the broker can be opened now."""
    try:
        with _client().connection_for_write() as connection:
            connection.ensure_connection(max_retries=0, timeout=2)
    except Exception:  # unreachable for whatever reason
        return False
    return True
