"""What the worker reports about each event: metrics, and one log line per change of its state.

Every line goes to the ``worker.events`` logger with ``event_id``, ``change`` (claimed, done,
failed, retrying, dead, replayed, requeued), ``status`` (the status it moved to) and, where
known, ``config``, ``attempt``, ``lead_id`` and ``action``. No line holds a payload value: error
messages, which may quote one, are masked.

Replays are timed on their own. An event's receive time can be a week old when it is replayed;
timed from receipt it would set off latency alerts meant for fresh events. So a replay records
its time on the event row (``replayed_time``, set by the requeue itself), the claim brings it
back, and an event that finishes with one is timed from it, in
``leadgate_event_replayed_to_done_seconds``; a first delivery (and its retries) is timed from
receipt, in ``leadgate_event_received_to_done_seconds``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from common.logs import mask_text
from common.metrics import (
    EVENT_LATENCY,
    EVENT_RETRIES,
    EVENTS_DEAD,
    EVENTS_FINISHED,
    REPLAY_LATENCY,
)
from models.base import utcnow
from models.enums import EventStatus
from worker.ingest.claims import Claim
from worker.ingest.pipeline import Outcome

log = logging.getLogger("worker.events")


def _fields(claim: Claim, change: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": str(claim.event_id),
        "config": str(claim.config.id),
        "attempt": claim.attempt,
        "change": change,
        "status": status,
        **extra,
    }


def event_claimed(claim: Claim, batch_size: int = 1) -> None:
    """Log that an attempt holds the event now."""
    fields = _fields(claim, "claimed", EventStatus.processing.value, batch_size=batch_size)
    log.info("event claimed", extra=fields)


def event_finished(finished: Sequence[tuple[Claim, Outcome | None]]) -> None:
    """Count and time the terminal outcomes of a batch and log each; None: taken over."""
    now = utcnow()
    for claim, outcome in finished:
        if outcome is None:
            # The lease ran out and another worker claimed the event: its attempt decides.
            log.info(
                "event %s: attempt %d was taken over; it wrote nothing",
                claim.event_id,
                claim.attempt,
            )
            continue
        action = outcome.action.value if outcome.action else None
        EVENTS_FINISHED.labels(str(claim.config.id), outcome.status.value, action or "none").inc()
        if claim.replayed_time is not None:
            REPLAY_LATENCY.observe(max((now - claim.replayed_time).total_seconds(), 0.0))
        else:
            EVENT_LATENCY.observe(max((now - claim.received_time).total_seconds(), 0.0))
        _log_outcome(claim, outcome, action)


def _log_outcome(claim: Claim, outcome: Outcome, action: str | None) -> None:
    status = outcome.status.value
    fields = _fields(
        claim, status, status, action=action, lead_id=outcome.lead_id, matched_by=outcome.matched_by
    )
    if outcome.status == EventStatus.failed and outcome.errors:
        first = outcome.errors[0]
        message = mask_text(str(first.get("message", "")))
        fields.update(
            error_field=first.get("field"),
            error_message=message,
            error_count=len(outcome.errors),
        )
        log.warning("event failed: %s: %s", first.get("field"), message, extra=fields)
    elif outcome.status == EventStatus.failed:
        log.warning("event failed", extra=fields)
    else:
        log.info("event %s %s", status, action or "", extra=fields)


def event_retrying(claim: Claim, status: EventStatus, reason: str, retry_in: float) -> None:
    """Count a transient failure (and a dead letter when it was the last attempt), log it once."""
    EVENT_RETRIES.inc()
    if status == EventStatus.dead:
        EVENTS_DEAD.inc()
        EVENTS_FINISHED.labels(str(claim.config.id), status.value, "none").inc()
        fields = _fields(claim, "dead", status.value, reason=reason)
        log.error("event dead after %d attempts: %s", claim.attempt, reason, extra=fields)
        return
    fields = _fields(claim, "retrying", status.value, reason=reason, retry_in=round(retry_in, 2))
    log.warning("event retrying in %.1f s after %s", retry_in, reason, extra=fields)


def event_replayed(event_ids: Sequence[uuid.UUID]) -> None:
    """Log each replayed event, now queued again."""
    for event_id in event_ids:
        fields = {"event_id": str(event_id), "change": "replayed", "status": "queued"}
        log.info("event replayed", extra=fields)


def event_requeued(event_id: uuid.UUID) -> None:
    """Log that the sweeper sent the event to the broker again."""
    # The sweeper re-sends queued, overdue and orphaned events alike; the status is the row's.
    fields = {"event_id": str(event_id), "change": "requeued"}
    log.info("event requeued by the sweeper", extra=fields)
