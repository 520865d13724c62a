"""Publishing from the webhook: a broker that fails is never waited on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kombu.exceptions import OperationalError

from webhook import broker


class _Broker:
    """Stands in for the Celery client: fails as told, counts publishes."""

    def __init__(self, cause: BaseException | None) -> None:
        self.cause = cause
        self.published = 0

    def send_task(self, *_: object, **__: object) -> None:
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
    monkeypatch.setattr(broker, "_client", lambda: refused)
    assert not broker.enqueue_event(uuid.uuid4())
    assert not broker.enqueue_event(uuid.uuid4())
    assert refused.published == 2


def test_a_broker_that_timed_out_is_skipped_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    hung = _Broker(TimeoutError("timed out"))
    monkeypatch.setattr(broker, "_client", lambda: hung)
    assert not broker.enqueue_event(uuid.uuid4())
    assert not broker.enqueue_event(uuid.uuid4())
    assert hung.published == 1  # the second event was left to the sweeper without waiting
    hung.cause = None
    broker._pause.until = 0.0  # the pause ran out
    assert broker.enqueue_event(uuid.uuid4())
