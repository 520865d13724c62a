"""Celery tasks: doorways that decode ids, call the attempt policy and answer in Celery's terms."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from celery import Task

import worker.logging_setup  # noqa: F401 - connects Celery's setup_logging signal
from common.settings import get_settings
from common.wakeups import WAKE_TASK, mark_wake_pending
from models.base import utcnow
from worker.attempts import Retry, attempt_event
from worker.celery_app import SWEEP_TASK, app, waiting_messages
from worker.database import task_session
from worker.inbox_partitions import drop_expired_partitions, ensure_partitions
from worker.inbox_retention import prune_idempotency_keys, purge_raw_bodies
from worker.lead_history import prune_history
from worker.observe import event_requeued
from worker.retry import describe, is_transient
from worker.sweeper import claim_due_events
from worker.test_leads import delete_expired_test_leads
from worker.wakeups import drain_once, stalled_configs

log = logging.getLogger(__name__)


def _schedule(retries: list[Retry]) -> None:
    for retry in retries:
        try:
            process_event.apply_async((str(retry.claim.event_id),), countdown=retry.seconds)
        except Exception as error:  # the sweeper re-enqueues retries that come due unsent
            log.warning(
                "event %s: retry not scheduled (%s)", retry.claim.event_id, type(error).__name__
            )


@app.task(name="leadgate.process_event", bind=True, max_retries=None)
def process_event(self: Task, event_id: str) -> None:
    """Process one ingestion event by id; delivery is at least once, the event row guards it."""
    verdict = attempt_event(uuid.UUID(event_id), deliveries=self.request.retries)
    _schedule(verdict.others)
    if verdict.retry_in is not None:
        raise self.retry(countdown=verdict.retry_in)


@app.task(name=WAKE_TASK)
def wake(config_id: str) -> None:
    """Drain one batch of a config's fresh events; wake again while more are waiting."""
    drained = drain_once(uuid.UUID(config_id))
    _schedule(drained.verdict.others)
    if drained.event_id is not None and drained.verdict.retry_in is not None:
        _schedule_event(drained.event_id, drained.verdict.retry_in)
    # One batch per message keeps other configs' wake-ups from waiting behind a long backlog.
    if drained.more_waiting and _no_wake_pending(config_id):
        wake.delay(config_id)


def _no_wake_pending(config_id: str) -> bool:
    try:
        return mark_wake_pending(config_id)
    except Exception as error:  # without the mark, a second wake-up costs only a message
        log.warning("wake-up state unavailable: %s", type(error).__name__)
        return True


def _schedule_event(event_id: uuid.UUID, seconds: float) -> None:
    try:
        process_event.apply_async((str(event_id),), countdown=seconds)
    except Exception as error:  # the sweeper re-enqueues retries that come due unsent
        log.warning("event %s: retry not scheduled (%s)", event_id, type(error).__name__)


@app.task(name=SWEEP_TASK)
def sweep() -> int:
    """Re-enqueue lost, orphaned and overdue events, wake stalled configs, prune old data."""
    settings = get_settings()
    # Queued events whose messages still wait in the broker need no copy (see the sweeper).
    queue = app.amqp.router.route({}, process_event.name)["queue"].name
    waiting = waiting_messages(queue) or 0
    try:
        with task_session() as session:
            due = claim_due_events(session, settings.stuck_after_seconds, waiting_in_broker=waiting)
            pending_window = dt.timedelta(seconds=settings.wake_pending_seconds)
            stalled = stalled_configs(session, utcnow() - pending_window)
            retention = dt.timedelta(days=settings.history_retention_days)
            prune_history(session, utcnow() - retention)
            test_ttl = dt.timedelta(hours=settings.test_lead_ttl_hours)
            delete_expired_test_leads(session, utcnow() - test_ttl)
    except Exception as error:
        if not is_transient(error):
            raise
        # The next interval's sweep tries again; an outage is not an error of the sweeper's.
        log.warning("sweep skipped: %s", describe(error))
        return 0
    for event_id in due:
        process_event.delay(str(event_id))
        event_requeued(event_id)
    # A config whose wake-up is still pending has one on the way; the mark keeps this from
    # doubling it, and a wake-up too many drains one batch and ends its chain.
    woken = [config_id for config_id in stalled if _no_wake_pending(str(config_id))]
    for config_id in woken:
        wake.delay(str(config_id))
    if woken:
        log.info("sweep: woke %d config(s) with fresh events older than a wake-up", len(woken))
    return len(due)


@app.task(name="leadgate.maintain_inbox")
def maintain_inbox() -> int:
    """Make the inbox's coming partitions, drop expired ones, purge old bodies and keys."""
    settings = get_settings()
    now = utcnow()
    purged = 0
    try:
        # Each step in its own transaction: the partition DDL's locks are not held through
        # the purge, and a failed step leaves the others' work done.
        with task_session() as session:
            ensure_partitions(session, now)
        with task_session() as session:
            drop_expired_partitions(session, now, settings.event_retention_months)
        if settings.raw_body_retention_days > 0:
            kept = dt.timedelta(days=settings.raw_body_retention_days)
            with task_session() as session:
                purged = purge_raw_bodies(session, now - kept, now)
        with task_session() as session:
            prune_idempotency_keys(session, now)
    except Exception as error:
        if not is_transient(error):
            raise
        log.warning("inbox maintenance skipped: %s", describe(error))
    return purged
