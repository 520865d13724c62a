"""The per-lead Redis lock: held when free; given up on (database locks only) when busy or down."""

from __future__ import annotations

import time
import uuid

import redis
from prometheus_client import REGISTRY

from tests.support.services import ServiceUrls
from worker.locks import _lock_name, identity_locks


def test_locks_are_held_then_released(services: ServiceUrls) -> None:
    client = redis.Redis.from_url(services.redis_url)
    keys = [f"lead:1:email:{uuid.uuid4().hex}@example.com", f"lead:1:phone_number:{uuid.uuid4()}"]
    with identity_locks(keys, ttl_seconds=5, client=client) as held:
        assert held
    with identity_locks(keys, ttl_seconds=5, wait_seconds=0.2, client=client) as again:
        assert again


def test_a_busy_lock_is_waited_for_then_left_to_the_database(services: ServiceUrls) -> None:
    # Its holder may be a worker killed while holding it: the TTL would keep it for long.
    client = redis.Redis.from_url(services.redis_url)
    keys = [f"lead:1:external_id:{uuid.uuid4().hex}"]
    with identity_locks(keys, ttl_seconds=30, client=client) as held:
        assert held
        started = time.monotonic()
        with identity_locks(keys, ttl_seconds=30, wait_seconds=0.3, client=client) as second:
            assert not second
        assert time.monotonic() - started >= 0.1  # it waited (up to one poll short of 0.3 s)


def test_the_locks_of_an_ended_attempt_are_taken_over_and_a_live_ones_waited_for(
    services: ServiceUrls,
) -> None:
    client = redis.Redis.from_url(services.redis_url)
    keys = [f"lead:1:email:{uuid.uuid4().hex}@example.com", f"lead:1:phone_number:{uuid.uuid4()}"]
    asked: list[str] = []

    def ended(holder: str) -> bool:
        asked.append(holder)
        return holder == "dead:1"

    # A killed worker's locks, never released: they would stay for their whole TTL, far longer
    # than the wait that is given up after.
    for key in keys:
        client.set(_lock_name(key), "dead:1|0123abcd", px=60_000)
    with identity_locks(
        keys, ttl_seconds=5, wait_seconds=30, client=client, holder="next:2", holder_gone=ended
    ) as taken:
        assert taken
        assert asked == ["dead:1"]
        # Now held by the new attempt: a live holder is asked about once, then waited for.
        with identity_locks(
            keys, ttl_seconds=5, wait_seconds=0.3, client=client, holder="x:1", holder_gone=ended
        ) as third:
            assert not third
        assert asked == ["dead:1", "next:2"]
    # Released by the new owner: the dead holder's locks are gone with it.
    assert client.exists(*[_lock_name(key) for key in keys]) == 0


def test_unreachable_redis_means_database_locks_only() -> None:
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with identity_locks(["lead:1:external_id:x"], ttl_seconds=5, client=down) as held:
        assert not held


def _lock_waits() -> tuple[float, float]:
    count = REGISTRY.get_sample_value("leadgate_lock_wait_seconds_count")
    total = REGISTRY.get_sample_value("leadgate_lock_wait_seconds_sum")
    assert count is not None and total is not None
    return count, total


def test_the_time_spent_waiting_for_locks_is_recorded_where_they_are_taken(
    services: ServiceUrls,
) -> None:
    # The batch takes its locks through identity_locks alone: the wait must be timed there.
    client = redis.Redis.from_url(services.redis_url)
    keys = [f"lead:1:external_id:{uuid.uuid4().hex}"]
    with identity_locks(keys, ttl_seconds=30, client=client):
        count, total = _lock_waits()
        with identity_locks(keys, ttl_seconds=30, wait_seconds=0.3, client=client):
            pass
    after_count, after_total = _lock_waits()
    assert after_count == count + 1
    assert after_total - total >= 0.2
