"""Celery tasks of the outbound webhooks: doorways to the delivery attempt and the sweep."""

from __future__ import annotations

import logging

from common.settings import get_settings
from worker.celery_app import app
from worker.database import task_session
from worker.outbound.attempts import attempt_delivery
from worker.outbound.publish import publish_delivery
from worker.outbound.sweep import claim_due_deliveries
from worker.retry import describe, is_transient

log = logging.getLogger(__name__)

# A retry due later than this is left to the sweeper rather than held in the broker as a
# countdown: a Redis broker re-delivers a message held past its visibility timeout.
MAX_COUNTDOWN_SECONDS = 60.0


@app.task(name="leadgate.deliver_webhook")
def deliver_webhook(delivery_id: int) -> None:
    """Attempt one delivery by id; the delivery row guards against a second copy."""
    verdict = attempt_delivery(int(delivery_id))
    if verdict.retry_in is not None and verdict.retry_in <= MAX_COUNTDOWN_SECONDS:
        # A little late rather than early: an early message finds its delivery not yet due.
        publish_delivery(delivery_id, countdown=verdict.retry_in + 0.05)
    if verdict.next_in_line is not None:
        publish_delivery(verdict.next_in_line)


@app.task(name="leadgate.sweep_deliveries")
def sweep_deliveries() -> int:
    """Publish deliveries whose message was lost, whose sender died, or whose retry is due."""
    settings = get_settings()
    try:
        with task_session() as session:
            due = claim_due_deliveries(session, grace_seconds=settings.sweep_interval_seconds)
    except Exception as error:
        if not is_transient(error):
            raise
        log.warning("delivery sweep skipped: %s", describe(error))
        return 0
    for delivery_id in due:
        publish_delivery(delivery_id)
    return len(due)
