"""Publishing delivery messages; a message lost here is published again by the sweeper."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from worker.celery_app import app

log = logging.getLogger(__name__)

DELIVER_TASK = "leadgate.deliver_webhook"


def publish_delivery(delivery_id: int, countdown: float | None = None) -> bool:
    """Ask a worker to attempt the delivery (after ``countdown`` seconds); False on failure."""
    try:
        app.send_task(DELIVER_TASK, args=(delivery_id,), countdown=countdown)
    except Exception as error:  # the broker is down; the outbox row waits for the sweeper
        log.warning("delivery %s: not published (%s)", delivery_id, type(error).__name__)
        return False
    return True


def publish_deliveries(delivery_ids: Iterable[int]) -> None:
    """Publish each delivery; call only after the transaction that inserted them committed.

    After one failure the rest are left to the sweeper too: each publish to a broker that is
    down costs seconds, and the worker has events waiting.
    """
    for delivery_id in delivery_ids:
        if not publish_delivery(delivery_id):
            return
