"""The Celery application, configured from ``celeryconfig.py``."""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from celery.worker.consumer import Consumer

from models.db import dispose_engines

log = logging.getLogger(__name__)


class LeadgateTask(Task):  # type: ignore[misc]
    """House defaults for every task: late acks, no results, re-read the world on each run."""

    acks_late = True
    ignore_result = True
    reject_on_worker_lost = True


class ReconnectingConsumer(Consumer):  # type: ignore[misc]
    """The worker's consumer, made to outlive a broker outage and to notice its end promptly.

    Celery reconnects with kombu's default backoff, which grows to 30 s between attempts: after
    an outage a worker could idle that long with the broker back. Events wait in the inbox, not
    in the worker, so trying every ``RECONNECT_SECONDS`` costs nothing and keeps recovery within
    a sweep interval.
    """

    RECONNECT_SECONDS = 2.0

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        """Drop the lost connection as Celery does, but never die of closing it.

        Closing a Redis connection puts its unacknowledged messages back; with the server gone,
        kombu (5.7) may fail there with an AttributeError, which Celery does not expect and
        turns into a worker shutdown. The messages are restored after the visibility timeout
        anyway, and the sweeper re-enqueues their events long before.
        """
        connection = self.connection
        if connection is not None:
            close = connection.close

            def close_quietly() -> None:
                try:
                    close()
                except Exception as error:  # whatever kombu trips on, the connection is gone
                    log.warning("closing the lost broker connection failed: %r", error)

            connection.close = close_quietly
        super().on_connection_error_after_connected(exc)

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
    app = Celery("leadgate", task_cls=LeadgateTask, include=["worker.tasks"])
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
