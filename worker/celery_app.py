"""The Celery application, configured from ``celeryconfig.py``."""

from __future__ import annotations

import functools
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from celery.worker.consumer import Consumer

from models.db import dispose_engines


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
