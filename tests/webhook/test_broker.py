"""Publishing from the webhook: a broker that fails is never waited on."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from kombu.exceptions import OperationalError

from tests.support.services import ServiceUrls
from webhook import broker


class _Broker:
    """Stands in for the publish: fails as told, counts publishes."""

    def __init__(self, cause: BaseException | None) -> None:
        self.cause = cause
        self.published = 0

    def __call__(self, *_: object, **__: object) -> None:
        self.published += 1
        if self.cause is not None:
            raise OperationalError("broker failed") from self.cause


@pytest.fixture(autouse=True)
def _no_pause() -> Iterator[None]:
    broker._pause.until = 0.0
    yield
    broker._pause.until = 0.0


def test_a_refused_broker_is_tried_again_on_every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = _Broker(ConnectionRefusedError(111, "Connection refused"))
    monkeypatch.setattr(broker, "_publish", refused)
    assert not broker.enqueue_event(uuid.uuid4())
    assert not broker.enqueue_event(uuid.uuid4())
    assert refused.published == 2


def test_a_broker_that_timed_out_is_skipped_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    hung = _Broker(TimeoutError("timed out"))
    monkeypatch.setattr(broker, "_publish", hung)
    assert not broker.enqueue_event(uuid.uuid4())
    assert not broker.enqueue_event(uuid.uuid4())
    assert hung.published == 1  # the second event was left to the sweeper without waiting
    hung.cause = None
    broker._pause.until = 0.0  # the pause ran out
    assert broker.enqueue_event(uuid.uuid4())


def test_a_published_message_is_the_one_send_task_sends(services: ServiceUrls) -> None:
    prefix = f"leadgate-test-parity-{uuid.uuid4().hex}:"
    app = Celery("parity")
    app.config_from_object("celeryconfig")
    app.conf.broker_url = services.redis_url
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "global_keyprefix": prefix,
    }
    event_id = uuid.uuid4()
    app.send_task(broker.PROCESS_EVENT_TASK, args=[str(event_id)], retry=False)
    broker.Publisher(app).publish(event_id)
    raw = redis.Redis.from_url(services.redis_url)
    try:
        # Both went to the prefixed "ingest" list (LPUSH: the newest first).
        published, sent = (json.loads(m) for m in raw.lrange(f"{prefix}ingest", 0, -1))
    finally:
        for key in raw.scan_iter(match=f"{prefix}*"):
            raw.delete(key)
    assert _without_ids(published) == _without_ids(sent)
    assert published["headers"]["task"] == broker.PROCESS_EVENT_TASK
    assert published["properties"]["delivery_info"] == {"exchange": "", "routing_key": "ingest"}
    body = json.loads(base64.b64decode(published["body"]))
    assert body[0] == [str(event_id)]


def _without_ids(message: dict[str, Any]) -> dict[str, Any]:
    """The message with its per-message ids blanked out."""
    copy = json.loads(json.dumps(message))
    copy["headers"]["id"] = copy["headers"]["root_id"] = None
    copy["properties"]["correlation_id"] = copy["properties"]["delivery_tag"] = None
    return copy
