"""The attempt policy: claim an event (with fresh ones behind it), process, judge failures.

A batch that fails is tried again one event at a time, so one event that cannot be processed now
fails only itself; a failed attempt is recorded on its event as a retry (or, out of attempts, a
dead letter). What comes back is in the event's terms (run again in so many seconds); the task
module translates that into Celery's.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from common.settings import get_settings
from models.enums import EventStatus
from worker.batches import process_batch
from worker.blocked_identifiers import load_hygiene
from worker.database import autocommit_session, task_session
from worker.health.monitor import observe_batch
from worker.ingest.claims import Claim, claim_events, prepare_claim, searchable_payload
from worker.ingest.pipeline import ClaimedEvent, record_transient_error
from worker.leases import leases_kept
from worker.observe import event_claimed, event_finished, event_retrying
from worker.outbound.callbacks import queue_callbacks
from worker.outbound.publish import publish_deliveries
from worker.retry import backoff_seconds, describe, is_transient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retry:
    """An event to run again in ``seconds``; ``recorded`` is False when the database was down."""

    claim: Claim
    seconds: float
    recorded: bool = True


@dataclass(frozen=True)
class Verdict:
    """What an attempt on a message's event asks for next.

    ``retry_in``: run the message's own event again in that many seconds (None: nothing to do).
    ``others``: other events of its batch that should run again, each with a message of its own.
    """

    retry_in: float | None = None
    others: list[Retry] = field(default_factory=list)


def attempt_event(
    event_id: uuid.UUID,
    deliveries: int = 0,
    batch_size: int | None = None,
    releasing: bool = False,
    up_to_seq: int | None = None,
) -> Verdict:
    """Claim the event (with fresh ones behind it), then prepare, lock, match and apply them.

    ``deliveries`` counts earlier runs of this message that could not even claim the event;
    ``batch_size`` overrides the setting (a file import claims a whole chunk at once);
    ``releasing`` runs the event although its config is held (a release's own claim), with the
    fresh events after it up to ``up_to_seq`` in its batch.
    """
    settings = get_settings()
    try:
        # Each claim statement stands alone, so no transaction is opened for them: a message
        # whose event was already claimed (with a batch) then costs a single round trip.
        with autocommit_session() as session:
            claims = claim_events(
                session,
                event_id,
                lease_seconds=settings.lease_seconds,
                max_attempts=settings.task_max_attempts,
                batch_size=batch_size or settings.batch_size,
                releasing=releasing,
                up_to_seq=up_to_seq,
            )
            hygiene = load_hygiene(session, (claim.organization_id for claim in claims))
    except Exception as error:
        if not is_transient(error):
            raise
        # The database is likely down. Nothing was claimed, so no attempt is counted; come back
        # with backoff rather than leave the event to the sweeper's slower round.
        log.warning("event %s: cannot be claimed (%s); retrying", event_id, describe(error))
        return Verdict(
            retry_in=backoff_seconds(
                deliveries + 1, settings.retry_base_seconds, settings.retry_max_seconds
            )
        )
    if not claims:
        # Usual under a backlog: the event went with an earlier message's batch.
        log.debug("event %s is not claimable (done, or held by another worker)", event_id)
        return Verdict()
    for claim in claims:
        event_claimed(claim, batch_size=len(claims))
    # The short lease is renewed while this worker lives; if it dies, the sweeper frees the
    # events a lease later (see worker.leases).
    held = [(claim.event_id, claim.attempt) for claim in claims]
    with leases_kept(held, settings.lease_seconds, settings.stuck_after_seconds):
        retries = run_batch(
            [(claim, prepare_claim(claim, hygiene[claim.organization_id])) for claim in claims]
        )
    own = [retry.seconds for retry in retries if retry.claim.event_id == event_id]
    others = [retry for retry in retries if retry.claim.event_id != event_id]
    return Verdict(retry_in=own[0] if own else None, others=others)


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
                lease = get_settings().lease_seconds
                rest = batch[index + 1 :]
                return retries + [Retry(claim, lease, recorded=False) for claim, _ in rest]
        return retries
    finished = [(claim, outcome) for (claim, _), outcome in zip(batch, outcomes, strict=True)]
    event_finished(finished)
    observe_batch(finished)
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
                searchable_payload(claim),
            )
            # A dead event's outcome callback commits with its dead state.
            callbacks = (
                queue_callbacks(session, [claim.event_id]) if status == EventStatus.dead else {}
            )
    except Exception:  # the database itself may be what failed; the lease covers us
        log.warning(
            "event %s: could not record the error; retrying after its lease", claim.event_id
        )
        # The event stays leased as processing; a retry before the lease ends would find
        # it held and drop out, so wait the lease out.
        return Retry(claim, max(retry_in, settings.lease_seconds), recorded=False)
    if status is None:
        log.info(
            "event %s: attempt %d failed after it was taken over", claim.event_id, claim.attempt
        )
        return None
    publish_deliveries(callbacks.values())
    event_retrying(claim, status, describe(error), retry_in)
    return Retry(claim, retry_in) if status.value == "retrying" else None
