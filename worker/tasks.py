"""Celery tasks: thin wrappers that open sessions, take locks and call the pipeline."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from celery import Task

import worker.logging_setup  # noqa: F401 - connects Celery's setup_logging signal
from common.settings import get_settings
from worker.batches import process_batch
from worker.celery_app import app, waiting_messages
from worker.database import autocommit_session, task_session
from worker.ingest.claims import Claim, claim_events, prepare_claim
from worker.ingest.pipeline import ClaimedEvent, record_transient_error
from worker.observe import event_finished, event_retrying
from worker.retry import backoff_seconds, describe, is_transient
from worker.sweeper import claim_due_events

log = logging.getLogger(__name__)


def run_event(event_id: uuid.UUID, deliveries: int = 0) -> None:
    """Claim the event (with fresh ones behind it), then prepare, lock, match and apply them.

    Raises RetryLater when the named event should run again; other events of the batch that
    must be retried get messages of their own. ``deliveries`` counts earlier runs of this message
    that could not even claim the event.
    """
    settings = get_settings()
    try:
        # Each claim statement stands alone, so no transaction is opened for them: a message
        # whose event was already claimed (with a batch) then costs a single round trip.
        with autocommit_session() as session:
            claims = claim_events(
                session,
                event_id,
                lease_seconds=settings.stuck_after_seconds,
                max_attempts=settings.task_max_attempts,
                batch_size=settings.batch_size,
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
    if not claims:
        # Usual under a backlog: the event went with an earlier message's batch.
        log.debug("event %s is not claimable (done, or held by another worker)", event_id)
        return
    batch = [(claim, prepare_claim(claim)) for claim in claims]
    own: float | None = None
    for retry in run_batch(batch):
        if retry.claim.event_id == event_id:
            own = retry.seconds
        else:
            _schedule_retry(retry.claim, retry.seconds)
    if own is not None:
        raise RetryLater(own)


@dataclass(frozen=True)
class Retry:
    """An event to run again in ``seconds``; ``recorded`` is False when the database was down."""

    claim: Claim
    seconds: float
    recorded: bool = True


def run_batch(batch: list[ClaimedEvent]) -> list[Retry]:
    """Process the batch; the events that should run again, with the seconds to wait.

    When a batch of several fails, each of its events is tried alone, so one event that cannot
    be processed now fails only itself.
    """
    try:
        outcomes = process_batch(batch)
    except Exception as error:
        if len(batch) == 1:
            retry = failed_attempt(batch[0][0], error)
            return [] if retry is None else [retry]
        log.warning(
            "a batch of %d events failed (%s); processing them one by one",
            len(batch),
            describe(error),
        )
        retries: list[Retry] = []
        for index, item in enumerate(batch):
            retries += run_batch([item])
            if retries and not retries[-1].recorded:
                # The database is down: the rest would fail alike, each waiting on it in turn.
                # They stay leased as processing; come back once the lease has run out.
                lease = get_settings().stuck_after_seconds
                rest = batch[index + 1 :]
                return retries + [Retry(claim, lease, recorded=False) for claim, _ in rest]
        return retries
    for (claim, _), outcome in zip(batch, outcomes, strict=True):
        if outcome is None:
            # The lease ran out and another worker claimed the event: its attempt decides.
            log.info(
                "event %s: attempt %d was taken over; it wrote nothing",
                claim.event_id,
                claim.attempt,
            )
        else:
            event_finished(claim, outcome)
    return []


def failed_attempt(claim: Claim, error: Exception) -> Retry | None:
    """Record a failed attempt: when the event should run again, None if it should not."""
    settings = get_settings()
    if not is_transient(error):
        log.error(
            "event %s: unexpected error on attempt %d",
            claim.event_id,
            claim.attempt,
            exc_info=error,
        )
    retry_in = backoff_seconds(
        claim.attempt, settings.retry_base_seconds, settings.retry_max_seconds
    )
    try:
        with task_session() as session:
            status = record_transient_error(
                session,
                claim.event_id,
                claim.attempt,
                describe(error),
                settings.task_max_attempts,
                retry_in,
            )
    except Exception:  # the database itself may be what failed; the lease covers us
        log.warning(
            "event %s: could not record the error; retrying after its lease", claim.event_id
        )
        # The event stays leased as processing; a retry before the lease ends would find
        # it held and drop out, so wait the lease out.
        return Retry(claim, max(retry_in, settings.stuck_after_seconds), recorded=False)
    if status is None:
        log.info(
            "event %s: attempt %d failed after it was taken over", claim.event_id, claim.attempt
        )
        return None
    event_retrying(claim, status, describe(error), retry_in)
    return Retry(claim, retry_in) if status.value == "retrying" else None


def _schedule_retry(claim: Claim, seconds: float) -> None:
    try:
        process_event.apply_async((str(claim.event_id),), countdown=seconds)
    except Exception as error:  # the sweeper re-enqueues retries that come due unsent
        log.warning("event %s: retry not scheduled (%s)", claim.event_id, type(error).__name__)


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
        with task_session() as session:
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
