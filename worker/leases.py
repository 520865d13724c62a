"""Keeping the leases of claimed events alive while this worker is still working on them.

A claim leases its events for ``LEADGATE_LEASE_SECONDS`` (seconds, not minutes), and a thread
renews the lease every third of that while the attempt runs. A worker that dies stops renewing,
so the sweeper frees its events at its first run after the short lease ran out, instead of after
the longest time an attempt may take. A thread rather than renewal between the steps of an
attempt: one step alone (a busy identity lock, a batch retried event by event, a slow provider
payload) can outlast the lease, and a thread renews through any of them without each step
having to remember to.

Renewal stops once the attempt has held its events for ``LEADGATE_STUCK_AFTER_SECONDS``, so a
worker that is alive but hung (its heartbeat thread still running) lets them go too.

Correctness never rests on the lease. Renewal only touches a row still ``processing`` under this
attempt's number, so an event another worker took over is never extended; and the batch
transaction re-checks the attempt number under a row lock before it writes anything (see
``worker.ingest.event_rows``), so a worker whose lease lapsed records nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast

from sqlalchemy import Table, select, tuple_, update
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from models.ingestion_event import events_time_conditions
from worker.database import autocommit_session
from worker.retry import describe

log = logging.getLogger(__name__)

_EVENTS = cast(Table, IngestionEvent.__table__)

# Renewals per lease: two may fail (a database blip) before the lease runs out.
RENEWALS_PER_LEASE = 3


def renew_leases(
    session: Session, held: Sequence[tuple[uuid.UUID, int]], lease_seconds: float
) -> int:
    """Extend the lease of each (event id, attempt) still processing under that attempt.

    Returns how many leases were extended. Rows locked right now are passed over rather than
    waited for: those are this attempt's own, locked by its batch transaction (no sweeper can
    take a locked row, and the transaction ends before any lease matters again), or an event
    being finished by whoever holds it.
    """
    if not held:
        return 0
    # The batch's receive-time span (from its UUIDv7 ids): only those months' partitions are read.
    in_span = events_time_conditions(_EVENTS.c.received_time, [event_id for event_id, _ in held])
    still_held = (
        select(_EVENTS.c.id)
        .where(
            tuple_(_EVENTS.c.id, _EVENTS.c.attempts).in_(list(held)),
            *in_span,
            _EVENTS.c.status == EventStatus.processing,
        )
        .with_for_update(skip_locked=True)
    )
    lease_end = utcnow() + dt.timedelta(seconds=lease_seconds)
    result = session.connection().execute(
        update(_EVENTS)
        .where(
            _EVENTS.c.id.in_(still_held.scalar_subquery()),
            *in_span,
        )
        .values(next_attempt_time=lease_end)
    )
    return int(result.rowcount)


class LeaseKeeper:
    """A daemon thread renewing a batch's leases until stopped or until the hold limit."""

    def __init__(
        self, held: Sequence[tuple[uuid.UUID, int]], lease_seconds: float, hold_seconds: float
    ) -> None:
        self.held = list(held)
        self.lease_seconds = lease_seconds
        self.interval = lease_seconds / RENEWALS_PER_LEASE
        self.hold_until = time.monotonic() + hold_seconds
        self.renewals = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def start(self) -> LeaseKeeper:
        """Start renewing in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing; the leases then run out by themselves unless the events finished."""
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            if time.monotonic() >= self.hold_until:
                log.warning(
                    "%d events held past the longest an attempt may take; their leases "
                    "are left to run out",
                    len(self.held),
                )
                return
            try:
                with autocommit_session() as session:
                    renewed = renew_leases(session, self.held, self.lease_seconds)
            except Exception as error:  # the lease lapses; the row checks keep us correct
                log.warning("leases not renewed (%s)", describe(error))
                continue
            self.renewals += 1
            if renewed == 0:
                # Every event finished or was taken over (or is locked by our own transaction,
                # which ends soon): keep going, cheaply, until the attempt says it is done.
                log.debug("no lease to renew among %d events", len(self.held))


def attempt_name(event_id: uuid.UUID, attempt: int) -> str:
    """How an attempt names itself where others may ask whether it still runs (its locks)."""
    return f"{event_id}:{attempt}"


def attempt_has_ended(session: Session, event_id: uuid.UUID, attempt: int) -> bool:
    """True once the attempt no longer holds its event under a live lease.

    Its event was finished, taken over by a later attempt, or its lease ran out (the worker
    stopped renewing it: it died).
    """
    holds = (
        select(_EVENTS.c.id)
        .where(
            _EVENTS.c.id == event_id,
            *events_time_conditions(_EVENTS.c.received_time, [event_id]),
            _EVENTS.c.status == EventStatus.processing,
            _EVENTS.c.attempts == attempt,
            _EVENTS.c.next_attempt_time > utcnow(),
        )
        .limit(1)
    )
    return session.connection().execute(holds).first() is None


def named_attempt_has_ended(name: str) -> bool:
    """``attempt_has_ended`` for an attempt's name; False when that cannot be told."""
    event_text, _, attempt_text = name.rpartition(":")
    try:
        event_id, attempt = uuid.UUID(event_text), int(attempt_text)
    except ValueError:
        return False  # not an attempt of ours: wait for it as for any holder
    try:
        with autocommit_session() as session:
            return attempt_has_ended(session, event_id, attempt)
    except Exception as error:  # the database will say at the advisory lock instead
        log.info("could not tell whether a lock's holder ended (%s)", describe(error))
        return False


@contextmanager
def leases_kept(
    held: Sequence[tuple[uuid.UUID, int]], lease_seconds: float, hold_seconds: float
) -> Iterator[LeaseKeeper]:
    """Renew the leases of ``held`` (event id, attempt) pairs while the block runs."""
    keeper = LeaseKeeper(held, lease_seconds, hold_seconds).start()
    try:
        yield keeper
    finally:
        keeper.stop()
