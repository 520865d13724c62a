"""The attempt policy for one delivery: claim it, send it outside any transaction, record it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from common.metrics import WEBHOOK_ATTEMPT_SECONDS, WEBHOOK_ATTEMPTS
from common.settings import get_settings
from worker.database import task_session
from worker.outbound.delivery import claim_delivery, record_attempt, record_skipped
from worker.outbound.sending import send
from worker.retry import describe, is_transient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryVerdict:
    """What to publish after an attempt: this delivery again, and the next one in its line."""

    retry_in: float | None = None
    next_in_line: int | None = None


def attempt_delivery(delivery_id: int) -> DeliveryVerdict:
    """Send the delivery once if it is due and at the head of its lead's line."""
    settings = get_settings()
    try:
        with task_session() as session:
            # The lease of an ingestion event, for the same reason: longer than the task's hard
            # time limit (celeryconfig), so a slow but live attempt is killed before the sweeper
            # hands its delivery to another worker. (Each phase of a send may take the 15 s
            # timeout: connect, write, each read.)
            claimed = claim_delivery(
                session, delivery_id, settings.stuck_after_seconds, settings.secret_keys
            )
    except Exception as error:
        if not is_transient(error):
            raise
        # Nothing was claimed; the sweeper publishes the delivery again once it is overdue.
        log.warning("delivery %s: cannot be claimed (%s)", delivery_id, describe(error))
        return DeliveryVerdict()
    if claimed is None:
        log.debug("delivery %s is not due, not first in line, or already sent", delivery_id)
        return DeliveryVerdict()
    if claimed.disabled_reason is not None:
        with task_session() as session:
            skipped = record_skipped(session, claimed)
        return DeliveryVerdict(next_in_line=skipped.next_in_line if skipped else None)
    attempt = send(claimed.request, settings.webhook_allow_private)
    with task_session() as session:
        recorded = record_attempt(
            session,
            claimed,
            attempt,
            settings.webhook_retry_schedule,
            settings.webhook_disable_after_seconds,
        )
    if recorded is None:
        log.info("delivery %s: attempt %d was taken over", delivery_id, claimed.attempt)
        return DeliveryVerdict()
    trigger = claimed.request.trigger
    WEBHOOK_ATTEMPTS.labels(trigger, recorded.status.value).inc()
    WEBHOOK_ATTEMPT_SECONDS.labels(trigger).observe(attempt.duration_ms / 1000)
    log.info(
        "delivery %s attempt %d: %s (%s)",
        delivery_id,
        claimed.attempt,
        recorded.status.value,
        # Not the error's text: a refusal names the host, which a template may fill from the lead.
        attempt.status_code if attempt.status_code is not None else "no answer",
    )
    return DeliveryVerdict(recorded.retry_in, recorded.next_in_line)
