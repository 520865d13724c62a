"""Celery tasks: thin wrappers that open sessions, take locks and call the pipeline."""

from __future__ import annotations

import logging
import uuid

from celery import Task

import worker.logging_setup  # noqa: F401 - connects Celery's setup_logging signal
from leadgate.settings import get_settings
from models.db import session_scope
from worker.celery_app import app, waiting_messages
from worker.ingest.identity import identity_keys
from worker.ingest.pipeline import (
    claim_event,
    prepare_claim,
    process_claim,
    record_failure,
    record_transient_error,
)
from worker.observe import event_finished, event_retrying, timed_identity_locks
from worker.retry import backoff_seconds, describe, is_transient
from worker.sweeper import claim_due_events

log = logging.getLogger(__name__)


def run_event(event_id: uuid.UUID, deliveries: int = 0) -> None:
    """Claim, prepare, lock, match and apply one event; raise on transient errors.

    ``deliveries`` counts earlier runs of this message that could not even claim the event.
    """
    settings = get_settings()
    try:
        with session_scope() as session:
            claim = claim_event(
                session,
                event_id,
                lease_seconds=settings.stuck_after_seconds,
                max_attempts=settings.task_max_attempts,
            )
    except Exception as error:
        if not is_transient(error):
            raise
        # The database is likely down. Nothing was claimed, so no attempt is counted; come back
        # with backoff rather than leave the event to the sweeper's slower round.
        retry_in = backoff_seconds(
            deliveries + 1, settings.retry_base_seconds, settings.retry_max_seconds
        )
        log.warning("event %s: cannot be claimed (%s); retrying", event_id, describe(error))
        raise RetryLater(retry_in) from error
    if claim is None:
        log.info("event %s is not claimable (done, or held by another worker)", event_id)
        return
    try:
        prepared = prepare_claim(claim)
        if not prepared.ok:
            with session_scope() as session:
                outcome = record_failure(session, claim, prepared.errors)
        else:
            keys = identity_keys(claim.organization_id, prepared.values)
            with timed_identity_locks(keys), session_scope() as session:
                outcome = process_claim(session, claim, prepared)
    except Exception as error:
        if not is_transient(error):
            log.exception("event %s: unexpected error on attempt %d", event_id, claim.attempt)
        retry_in = backoff_seconds(
            claim.attempt, settings.retry_base_seconds, settings.retry_max_seconds
        )
        try:
            with session_scope() as session:
                status = record_transient_error(
                    session,
                    event_id,
                    claim.attempt,
                    describe(error),
                    settings.task_max_attempts,
                    retry_in,
                )
        except Exception:  # the database itself may be what failed; the lease covers us
            log.warning("event %s: could not record the error; retrying after its lease", event_id)
            # The event stays leased as processing; a retry before the lease ends would find
            # it held and drop out, so wait the lease out.
            raise RetryLater(max(retry_in, settings.stuck_after_seconds)) from error
        if status is None:
            log.info("event %s: attempt %d failed after it was taken over", event_id, claim.attempt)
            return
        event_retrying(claim, status, describe(error), retry_in)
        if status.value == "retrying":
            raise RetryLater(retry_in) from error
        return
    if outcome is None:
        # The lease ran out and another worker claimed the event: its attempt decides.
        log.info("event %s: attempt %d was taken over; it wrote nothing", event_id, claim.attempt)
    else:
        event_finished(claim, outcome)


class RetryLater(Exception):
    """The event should run again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:.1f} s")
        self.seconds = seconds


@app.task(name="leadgate.process_event", bind=True, max_retries=None)
def process_event(self: Task, event_id: str) -> None:
    """Process one ingestion event by id; delivery is at least once, the event row guards it."""
    try:
        run_event(uuid.UUID(event_id), deliveries=self.request.retries)
    except RetryLater as retry:
        raise self.retry(countdown=retry.seconds) from None


@app.task(name="leadgate.sweep")
def sweep() -> int:
    """Re-enqueue events the broker lost, events whose worker died, and overdue retries."""
    settings = get_settings()
    # Queued events whose messages still wait in the broker need no copy (see the sweeper).
    queue = app.amqp.router.route({}, process_event.name)["queue"].name
    waiting = waiting_messages(queue) or 0
    try:
        with session_scope() as session:
            due = claim_due_events(session, settings.stuck_after_seconds, waiting_in_broker=waiting)
    except Exception as error:
        if not is_transient(error):
            raise
        # The next interval's sweep tries again; an outage is not an error of the sweeper's.
        log.warning("sweep skipped: %s", describe(error))
        return 0
    for event_id in due:
        process_event.delay(str(event_id))
    if due:
        log.info("sweep: re-enqueued %d events", len(due))
    return len(due)
