"""What the worker reports about each event: metrics and one structured log line per change."""

from __future__ import annotations

import logging
from typing import Any

from common.metrics import EVENT_LATENCY, EVENT_RETRIES, EVENTS_DEAD, EVENTS_FINISHED
from models.base import utcnow
from models.enums import EventStatus
from worker.ingest.claims import Claim
from worker.ingest.pipeline import Outcome

log = logging.getLogger("worker.events")


def _fields(claim: Claim, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": str(claim.event_id),
        "config": str(claim.config.id),
        "attempt": claim.attempt,
        **extra,
    }


def event_finished(claim: Claim, outcome: Outcome) -> None:
    """Count a terminal outcome, time it from receipt, and log it once."""
    action = outcome.action.value if outcome.action else "none"
    EVENTS_FINISHED.labels(outcome.status.value, action).inc()
    EVENT_LATENCY.observe(max((utcnow() - claim.received_time).total_seconds(), 0.0))
    fields = _fields(
        claim, status=outcome.status.value, action=action, lead_id=outcome.lead_id,
        matched_by=outcome.matched_by,
        error_fields=",".join(error["field"] for error in outcome.errors) or None,
    )  # fmt: skip
    log.info("event %s %s", outcome.status.value, action, extra=fields)


def event_retrying(claim: Claim, status: EventStatus, reason: str, retry_in: float) -> None:
    """Count a transient failure (and a dead letter when it was the last attempt), log it once."""
    EVENT_RETRIES.inc()
    if status == EventStatus.dead:
        EVENTS_DEAD.inc()
        EVENTS_FINISHED.labels(status.value, "none").inc()
    fields = _fields(claim, status=status.value, reason=reason, retry_in=round(retry_in, 2))
    log.warning("event %s after a transient error", status.value, extra=fields)
