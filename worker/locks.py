"""The per-lead Redis lock: one lock per identity key, taken in sorted order, with a TTL.

The lock only saves wasted work (two workers matching the same person at once). Correctness
rests on the database: advisory transaction locks on the same keys, the unique index on external
id and the lead's version check. So when Redis is unreachable we carry on without it, and when
a lock stays busy too long we do too: its holder may be a worker that was killed holding it,
and waiting out its TTL (or failing the attempt) would stall that person's events for nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.lock import Lock

from leadgate.redis_client import redis_for
from leadgate.settings import get_settings

log = logging.getLogger(__name__)

# A match-then-write takes milliseconds; a lock busy for longer is held by a slow or dead worker,
# and the advisory lock in the database does any further waiting.
LOCK_WAIT_SECONDS = 2.0


def lock_client() -> redis.Redis:
    """The Redis client that holds locks (the same per-process client the rate limiter uses)."""
    return redis_for(get_settings().locks_redis_url)


def _lock_name(key: str) -> str:
    # Hash the key so no phone number or email appears in Redis key names.
    return "leadgate:lock:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _acquire(
    redis_client: redis.Redis, keys: list[str], ttl: float, wait_seconds: float
) -> list[Lock] | None:
    held: list[Lock] = []
    try:
        for key in sorted(keys):
            lock = redis_client.lock(
                _lock_name(key), timeout=ttl, blocking_timeout=wait_seconds, thread_local=False
            )
            if not lock.acquire():
                # A live holder is waited for again on the advisory lock, inside the database.
                log.info("identity lock busy for %g s; relying on database locks", wait_seconds)
                _release(held)
                return None
            held.append(lock)
    except redis.RedisError as error:
        log.warning("redis lock unavailable (%s); relying on database locks", type(error).__name__)
        _release(held)
        return None
    return held


@contextmanager
def identity_locks(
    keys: list[str],
    ttl_seconds: float | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    client: redis.Redis | None = None,
) -> Iterator[bool]:
    """Hold a Redis lock on every key (sorted); yields False when they could not all be had."""
    ttl = ttl_seconds if ttl_seconds is not None else get_settings().lock_ttl_seconds
    held = _acquire(client or lock_client(), keys, ttl, wait_seconds)
    try:
        yield held is not None
    finally:
        _release(held or [])


def _release(locks: list[Lock]) -> None:
    for lock in reversed(locks):
        try:
            lock.release()
        except redis.RedisError:
            # Expired or taken over: the database guards still hold, nothing to undo.
            log.info("a lock had expired before release")
