"""Publishing events to the broker by task name, without importing the worker's code."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from celery import Celery
from kombu.entity import Queue
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.wakeups import WAKE_TASK, clear_wake_pending, mark_wake_pending

log = logging.getLogger(__name__)

PROCESS_EVENT_TASK = "leadgate.process_event"
# A broker that takes connections but never answers (hung, or behind a dropped route) costs a
# publish the whole socket timeout. After one such timeout this process skips publishing for a
# while and leaves new events to the sweeper, so providers keep getting a prompt 202. A refused
# connection fails at once and needs no pause.
PAUSE_AFTER_TIMEOUT_SECONDS = 10.0


@dataclass
class _PublishPause:
    until: float = 0.0


_pause = _PublishPause()


@lru_cache(maxsize=1)
def _client() -> Celery:
    client = Celery("leadgate-webhook")
    client.config_from_object("celeryconfig")
    # A provider waits on this publish: connect once and never sleep between retries (kombu
    # waits 2 s before each one). What cannot be published now, the sweeper enqueues later.
    client.conf.broker_transport_options = {
        **client.conf.broker_transport_options,
        "max_retries": 0,
        "socket_timeout": 2,
    }
    return client


class Publisher:
    """Sends one task's messages as ``Celery.send_task`` does, minus its per-call setup.

    The message is built by Celery's own protocol code and published through its producer pool,
    so workers receive exactly what ``send_task`` would have sent; what is done once here is the
    routing (task_routes) and binding the queue to each producer's channel.
    """

    def __init__(self, app: Celery, task: str = PROCESS_EVENT_TASK) -> None:
        self.app = app
        self.task = task
        self.route: dict[str, Any] = app.amqp.router.route({}, task, None, None, None)
        self.queue: Queue = self.route["queue"]
        self._bound: WeakKeyDictionary[Any, Queue] = WeakKeyDictionary()

    def publish(self, argument: uuid.UUID) -> None:
        """Publish one message with ``argument`` (an event or config id); raises when it cannot."""
        app = self.app
        task_id = str(uuid.uuid4())
        args = [str(argument)]
        message = app.amqp.create_task_message(
            task_id,
            self.task,
            args,
            {},
            reply_to=app.thread_oid,
            create_sent_event=app.conf.task_send_sent_event,
            # The same text saferepr gives for a list of one short string, without its walk.
            argsrepr=repr(args),
            kwargsrepr="{}",
            ignore_result=None,
        )
        with app.producer_or_acquire() as producer:
            app.amqp.send_task_message(
                producer,
                self.task,
                message,
                retry=False,
                declare=[self._bound_queue(producer.channel)],
                **self.route,
            )

    def _bound_queue(self, channel: Any) -> Queue:
        # kombu declares a queue once per connection, but binds an unbound one to the channel
        # (copying it) on every publish first; a queue bound once per channel skips that.
        bound = self._bound.get(channel)
        if bound is None:
            # kombu's entities carry no annotations.
            bound = self._bound[channel] = self.queue.bind(channel)  # type: ignore[no-untyped-call]
        return bound


@lru_cache(maxsize=4)
def _publisher(app: Celery, task: str = PROCESS_EVENT_TASK) -> Publisher:
    return Publisher(app, task)


def _publish(event_id: uuid.UUID) -> None:
    _publisher(_client()).publish(event_id)


def wake_config(config_id: uuid.UUID, event_id: uuid.UUID) -> bool:
    """Ask a worker to drain the config's fresh events, unless a wake-up is already pending.

    ``event_id`` is committed already. When Redis cannot say whether a wake-up is pending, the
    event gets a message of its own, as before wake-ups; when the broker cannot take the
    wake-up, the pending mark is dropped so the next event tries again (the sweeper covers both).
    """
    if time.monotonic() < _pause.until:
        return False
    try:
        send = mark_wake_pending(config_id)
    except Exception as error:  # Redis unavailable: fall back to one message per event
        log.warning("wake-up state unavailable (%s)", type(error).__name__)
        if isinstance(error, RedisTimeoutError) or _timed_out(error):
            # A hung Redis is most likely the broker too: stop waiting on it for a while.
            _pause.until = time.monotonic() + PAUSE_AFTER_TIMEOUT_SECONDS
            return False
        return enqueue_event(event_id)
    if not send:
        return True
    try:
        _publisher(_client(), WAKE_TASK).publish(config_id)
    except Exception as error:  # any broker failure: the events stay queued for the sweeper
        log.warning(
            "broker unavailable, wake-up for %s not sent: %s", config_id, type(error).__name__
        )
        if _timed_out(error):
            _pause.until = time.monotonic() + PAUSE_AFTER_TIMEOUT_SECONDS
        with contextlib.suppress(Exception):
            clear_wake_pending(config_id)
        return False
    return True


def enqueue_event(event_id: uuid.UUID) -> bool:
    """Publish one event for processing; False when the broker could not take it.

    The event is already committed to the inbox, so a failed publish loses nothing: the sweeper
    enqueues events that stay ``queued``.
    """
    if time.monotonic() < _pause.until:
        return False
    try:
        _publish(event_id)
    except Exception as error:  # any broker failure is handled the same way: leave it queued
        log.warning("broker unavailable, event %s left queued: %s", event_id, type(error).__name__)
        if _timed_out(error):
            _pause.until = time.monotonic() + PAUSE_AFTER_TIMEOUT_SECONDS
        return False
    return True


def _timed_out(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, TimeoutError):
            return True
        error = error.__cause__ or error.__context__
    return False


def broker_reachable() -> bool:
    """True when a connection to the broker can be opened now."""
    try:
        with _client().connection_for_write() as connection:
            connection.ensure_connection(max_retries=0, timeout=2)
    except Exception:  # unreachable for whatever reason
        return False
    return True


DELIVER_WEBHOOK_TASK = "leadgate.deliver_webhook"


def enqueue_delivery(delivery_id: int) -> bool:
    """Publish one lead webhook delivery; False when the broker could not take it.

    The delivery is committed as pending, so the sweeper publishes it when this could not.
    """
    if time.monotonic() < _pause.until:
        return False
    try:
        _client().send_task(DELIVER_WEBHOOK_TASK, args=(delivery_id,), retry=False)
    except Exception as error:  # any broker failure: the sweeper publishes it later
        log.warning(
            "broker unavailable, delivery %s left pending: %s", delivery_id, type(error).__name__
        )
        return False
    return True


IMPORT_UPLOAD_TASK = "leadgate.import_upload"


def enqueue_upload(upload_id: uuid.UUID) -> bool:
    """Publish the import of an uploaded file; False when the broker could not take it.

    The upload is committed as processing, so the uploads sweeper starts it when this could not.
    """
    try:
        _client().send_task(IMPORT_UPLOAD_TASK, args=(str(upload_id),), retry=False)
    except Exception as error:  # any broker failure: the sweeper starts the import later
        log.warning("broker unavailable, upload %s left to the sweeper: %s", upload_id,
                    type(error).__name__)  # fmt: skip
        return False
    return True


REPLAY_CHUNK_TASK = "leadgate.replay_chunk"
# What a job that could not be sent records; starting it again picks up where it stands.
REPLAY_UNSENT = "the broker was unreachable when the job started; start it again"


def enqueue_replay_job(job_id: uuid.UUID) -> bool:
    """Send a replay job's first chunk to the workers; False when the broker could not take it."""
    try:
        _client().send_task(REPLAY_CHUNK_TASK, args=[str(job_id)])
    except Exception as error:  # the caller marks the job failed: nothing would ever run it
        log.warning(
            "broker unavailable, replay job %s not started: %s", job_id, type(error).__name__
        )
        return False
    return True
