"""The per-lead Redis lock: one lock per identity key, all of an attempt's keys taken at once.

The lock only saves wasted work (two workers matching the same person at once). Correctness
rests on the database: advisory transaction locks on the same keys, the unique index on external
id and the lead's version check. So when Redis is unreachable we carry on without it, and when
a lock stays busy too long we do too: its holder may be a worker that was killed holding it,
and waiting out its TTL (or failing the attempt) would stall that person's events for nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from common.metrics import LOCK_WAIT
from common.redis_client import REDIS_ERRORS, RedisClient, redis_for
from common.settings import get_settings

log = logging.getLogger(__name__)

# A match-then-write takes milliseconds; a lock busy for longer is held by a slow or dead worker,
# and the advisory lock in the database does any further waiting.
LOCK_WAIT_SECONDS = 2.0
# How often a busy lock is tried again.
POLL_SECONDS = 0.01

# All keys or none, in one round trip: a batch of events may need dozens of keys, and taking
# them one by one would cost a round trip each (and hold some while waiting for others).
# KEYS: lock names. ARGV: owner token, TTL in milliseconds. Returns 1 when all are held.
_ACQUIRE = """
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and holder ~= ARGV[1] then
    return 0
  end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return 1
"""
# Deletes only the keys this owner still holds; returns how many that was.
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
"""


def lock_client() -> RedisClient:
    """The Redis client that holds locks (the same per-process client the rate limiter uses)."""
    return redis_for(get_settings().locks_redis_url)


# Every lock name carries this hash tag. One script call takes all of a batch's locks at once, and
# on a Redis Cluster the keys of one call must live in one slot: a tag shared by all of them is
# the only one that holds whatever keys a batch brings. The locks then sit on one master, which
# is fine for their traffic (one call per batch); other data spreads over the cluster.
LOCK_HASH_TAG = "{leadgate:locks}"


def _lock_name(key: str) -> str:
    # Hash the key so no phone number or email appears in Redis key names.
    return f"{LOCK_HASH_TAG}:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _acquire(
    redis_client: RedisClient, names: list[str], token: str, ttl: float, wait_seconds: float
) -> bool:
    ttl_ms = max(1, int(ttl * 1000))
    deadline = time.monotonic() + wait_seconds
    try:
        while not redis_client.eval(_ACQUIRE, len(names), *names, token, ttl_ms):
            if time.monotonic() >= deadline:
                # A live holder is waited for again on the advisory lock, inside the database.
                log.info("identity lock busy for %g s; relying on database locks", wait_seconds)
                return False
            time.sleep(POLL_SECONDS)
    except REDIS_ERRORS as error:
        log.warning("redis lock unavailable (%s); relying on database locks", type(error).__name__)
        return False
    return True


@contextmanager
def identity_locks(
    keys: list[str],
    ttl_seconds: float | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    client: RedisClient | None = None,
) -> Iterator[bool]:
    """Hold a Redis lock on every key, all or none; yields False when they could not be had.

    The time spent getting them (or giving up on them) is recorded in ``LOCK_WAIT``.
    """
    ttl = ttl_seconds if ttl_seconds is not None else get_settings().lock_ttl_seconds
    redis_client = client or lock_client()
    names = sorted({_lock_name(key) for key in keys})
    token = uuid.uuid4().hex
    started = time.monotonic()
    held = bool(names) and _acquire(redis_client, names, token, ttl, wait_seconds)
    LOCK_WAIT.observe(time.monotonic() - started)
    try:
        yield held or not names
    finally:
        if held:
            _release(redis_client, names, token)


def _release(redis_client: RedisClient, names: list[str], token: str) -> None:
    try:
        released = redis_client.eval(_RELEASE, len(names), *names, token)
    except REDIS_ERRORS:
        # The locks expire by themselves; the database guards hold meanwhile.
        log.info("locks could not be released; they expire by themselves")
        return
    if int(released) < len(names):
        # Expired or taken over: the database guards still hold, nothing to undo.
        log.info(
            "%d of %d locks had expired before release", len(names) - int(released), len(names)
        )
