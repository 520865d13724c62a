"""The Celery application, configured from ``celeryconfig.py``."""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready
from celery.worker.consumer import Consumer

from common.settings import get_settings
from models.db import dispose_engines

log = logging.getLogger(__name__)

SWEEP_TASK = "leadgate.sweep"
# One lease after a worker's start, every lease held by a worker that died before that start
# has run out; one second more allows for the gap between the two processes' clocks.
START_SWEEP_MARGIN_SECONDS = 1.0


class ReconnectingConsumer(Consumer):  # type: ignore[misc]
    """The worker's consumer, retrying a lost broker every ``RECONNECT_SECONDS`` at most.

    Celery reconnects with kombu's default backoff, which grows to 30 s between attempts: after
    an outage a worker could idle that long with the broker back. Events wait in the inbox, not
    in the worker, so trying often costs nothing and keeps recovery within a sweep interval.
    """

    RECONNECT_SECONDS = 2.0

    def ensure_connected(self, conn: Any) -> Any:
        """Connect as Celery does, with the retry interval capped."""
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=0,
            interval_step=self.RECONNECT_SECONDS,
            interval_max=self.RECONNECT_SECONDS,
        )
        return super().ensure_connected(conn)


def create_celery_app() -> Celery:
    """Build the Celery app from ``celeryconfig`` and register the tasks."""
    # Tasks are imported when the worker starts (``include``), not here, so the tasks module
    # can import this app without a cycle.
    # The house task defaults (late acks, no results, time limits) are app-wide settings in
    # celeryconfig, so every task reads them from there; no base task class repeats them.
    tasks = ["worker.tasks", "worker.outbound.tasks", "worker.upload_tasks", "worker.replay_tasks"]
    app = Celery("leadgate", include=tasks)
    app.config_from_object("celeryconfig")
    return app


@worker_process_init.connect
def _forget_parent_engines(**_: Any) -> None:
    # A prefork child inherits the parent's pool; its sockets belong to the parent.
    dispose_engines()


def request_start_sweep(celery: Celery) -> None:
    """Ask for one sweep a lease after now, when a worker has started.

    A worker that starts is often the one replacing a worker that died holding events (a
    supervisor restarting it after a SIGKILL or an OOM). Those events come back when their lease
    has run out and a sweep sees it; beat's next sweep may be a whole interval away, this one
    runs as soon as the leases can have run out. Sweeps may overlap: each takes its events with
    SKIP LOCKED and pushes their next check back, so none is enqueued twice.
    """
    settings = get_settings()
    delay = settings.lease_seconds + START_SWEEP_MARGIN_SECONDS
    celery.send_task(SWEEP_TASK, countdown=delay, expires=delay + settings.sweep_interval_seconds)


@worker_ready.connect
def _sweep_after_start(**_: Any) -> None:
    try:
        request_start_sweep(app)
    except Exception as error:  # the broker went away again: beat's sweeps still come
        log.warning("could not ask for a sweep after start: %s", type(error).__name__)


app = create_celery_app()


def waiting_messages(queue: str) -> int | None:
    """How many messages wait in ``queue`` on the broker; None when the broker cannot say."""
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            try:
                declared = channel.queue_declare(queue=queue, passive=True)
            except connection.channel_errors:
                return 0  # no such queue: Redis drops a queue's key when it empties
            return int(declared.message_count)
    except Exception:  # unreachable or unable to tell; the caller assumes nothing waits
        return None
