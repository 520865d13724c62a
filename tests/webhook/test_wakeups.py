"""Wake-ups from the webhook: one pending per config, marked in the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kombu.exceptions import OperationalError

from common.redis_client import redis_for
from common.settings import get_settings
from common.wakeups import WAKE_TASK, clear_wake_pending, wake_key
from tests.support.services import ServiceUrls
from webhook import broker


class _Publisher:
    """Records what would be published; fails when told to."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failing = False

    def for_task(self, _app: object, task: str = broker.PROCESS_EVENT_TASK) -> _Publisher:
        self.task = task
        return self

    def publish(self, argument: uuid.UUID) -> None:
        if self.failing:
            raise OperationalError("broker failed") from ConnectionRefusedError()
        self.sent.append((self.task, str(argument)))


@pytest.fixture
def publisher(services: ServiceUrls, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Publisher]:
    recorder = _Publisher()
    monkeypatch.setattr(broker, "_publisher", recorder.for_task)
    broker._pause.until = 0.0
    yield recorder
    broker._pause.until = 0.0


def test_one_wakeup_is_sent_while_one_is_pending(publisher: _Publisher) -> None:
    config_id = uuid.uuid4()
    for _ in range(3):
        assert broker.wake_config(config_id, uuid.uuid4())
    assert publisher.sent == [(WAKE_TASK, str(config_id))]
    ttl_ms = redis_for(get_settings().locks_redis_url).pttl(wake_key(config_id))
    assert 0 < ttl_ms <= get_settings().wake_pending_seconds * 1000
    # Released by the worker that took it: the next event sends a new one.
    clear_wake_pending(config_id)
    assert broker.wake_config(config_id, uuid.uuid4())
    assert publisher.sent == [(WAKE_TASK, str(config_id))] * 2


def test_each_config_has_its_own_wakeup(publisher: _Publisher) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    broker.wake_config(first, uuid.uuid4())
    broker.wake_config(second, uuid.uuid4())
    assert publisher.sent == [(WAKE_TASK, str(first)), (WAKE_TASK, str(second))]


def test_a_wakeup_the_broker_refused_is_not_left_pending(publisher: _Publisher) -> None:
    config_id = uuid.uuid4()
    publisher.failing = True
    assert not broker.wake_config(config_id, uuid.uuid4())
    assert not redis_for(get_settings().locks_redis_url).exists(wake_key(config_id))
    publisher.failing = False
    assert broker.wake_config(config_id, uuid.uuid4())
    assert publisher.sent == [(WAKE_TASK, str(config_id))]
