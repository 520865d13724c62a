"""Locks and rate limits on a Redis found through Sentinel, and after the Sentinel fails over."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import cast

import pytest
import redis
from redis.sentinel import SentinelConnectionPool

from common.redis_client import redis_for
from common.settings import get_settings
from tests.support.redis_sentinel import MASTER_NAME, OwnSentinelGroup
from worker.locks import LOCK_HASH_TAG, identity_locks

pytestmark = pytest.mark.integration


@pytest.fixture
def sentinel_group(monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnSentinelGroup]:
    """A master, a replica and a Sentinel; this process's settings find the master through it."""
    group = OwnSentinelGroup().start()
    # REDIS_URL still gives the database; the Sentinel gives the address.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("LEADGATE_REDIS_SENTINELS", f"127.0.0.1:{group.sentinel_port}")
    monkeypatch.setenv("LEADGATE_REDIS_SENTINEL_MASTER", MASTER_NAME)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # not used here
    get_settings.cache_clear()
    yield group
    get_settings.cache_clear()
    group.stop()


def _locks_held(keys: list[str]) -> bool:
    with identity_locks(keys, ttl_seconds=5, wait_seconds=0.2) as held:
        return held


def _master_port() -> int:
    """Where the process's lock client sends its commands now."""
    client = redis_for(get_settings().locks_redis_url)
    assert isinstance(client, redis.Redis)
    pool = cast(SentinelConnectionPool, client.connection_pool)
    return int(pool.get_master_address()[1])


def test_locks_follow_the_master_the_sentinel_names_through_a_failover(
    sentinel_group: OwnSentinelGroup,
) -> None:
    keys = [f"lead:1:email:{uuid.uuid4().hex}@example.com"]
    assert _locks_held(keys)
    assert _master_port() == sentinel_group.master_port

    new_master = sentinel_group.fail_over()

    # Calls made while the switch settles may still reach the old master, or meet it demoted and
    # fall back to the database locks; the client asks the Sentinel again and moves over.
    deadline = time.monotonic() + 30
    while _master_port() != new_master:
        assert time.monotonic() < deadline, "the client never moved to the new master"
        _locks_held([f"lead:1:email:{uuid.uuid4().hex}@example.com"])
        time.sleep(0.2)
    new = redis.Redis(port=new_master)
    assert new.info("replication")["role"] == "master"
    with identity_locks([f"lead:1:phone:{uuid.uuid4().hex}"], ttl_seconds=5) as held:
        assert held
        assert new.keys(f"{LOCK_HASH_TAG}:*"), "the lock is not on the new master"
