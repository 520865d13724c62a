"""The per-lead Redis lock: one lock per identity key, all of an attempt's keys taken at once.

The lock only saves wasted work (two workers matching the same person at once). Correctness
rests on the database: advisory transaction locks on the same keys, the unique index on external
id and the lead's version check. So when Redis is unreachable we carry on without it, and when
a lock stays busy too long we do too: its holder may be a worker that was killed holding it,
and waiting out its TTL (or failing the attempt) would stall that person's events for nothing.

Each lock's value names the attempt holding it. A lock still busy after a moment is asked about
its holder, and the locks of an attempt that has ended (its worker died, its events were taken
over) are taken over at once: after a crash, each of the dead worker's persons would otherwise
cost its next event the whole wait.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
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
# A lock still busy after this long is asked about its holder (one database read per holder).
HOLDER_CHECK_AFTER_SECONDS = 0.1
# Between the attempt a lock's value names and the value's own random part.
_HOLDER_SEPARATOR = "|"

# Whether the attempt a lock's value names has ended; only True lets its locks be taken over.
HolderGone = Callable[[str], bool]

# All keys or none, in one round trip: a batch of events may need dozens of keys, and taking
# them one by one would cost a round trip each (and hold some while waiting for others).
# KEYS: lock names. ARGV: owner token, TTL in milliseconds. Returns 1 when all are held, else
# the token of a busy key's holder.
_ACQUIRE = """
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and holder ~= ARGV[1] then
    return holder
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
# Gives this owner the keys an ended holder still holds, and no other. KEYS: lock names. ARGV:
# the ended holder's token, the new owner's token, TTL in milliseconds.
_TAKE_OVER = """
local taken = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
    taken = taken + 1
  end
end
return taken
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


def _holder_named(token: str) -> str | None:
    holder, separator, _ = token.rpartition(_HOLDER_SEPARATOR)
    return holder if separator else None


def _acquire(
    redis_client: RedisClient,
    names: list[str],
    token: str,
    ttl: float,
    wait_seconds: float,
    holder_gone: HolderGone | None,
) -> bool:
    ttl_ms = max(1, int(ttl * 1000))
    started = time.monotonic()
    asked: set[str] = set()
    try:
        while True:
            busy = redis_client.eval(_ACQUIRE, len(names), *names, token, ttl_ms)
            if busy == 1:
                return True
            busy_token = busy.decode() if isinstance(busy, bytes) else str(busy)
            holder = _holder_named(busy_token)
            waited = time.monotonic() - started
            if (
                holder_gone is not None
                and holder is not None
                and busy_token not in asked
                and waited >= HOLDER_CHECK_AFTER_SECONDS
            ):
                asked.add(busy_token)
                if holder_gone(holder):
                    redis_client.eval(_TAKE_OVER, len(names), *names, busy_token, token, ttl_ms)
                    log.info("identity locks of an ended attempt taken over")
                    continue
            if waited >= wait_seconds:
                # A live holder is waited for again on the advisory lock, inside the database.
                log.info("identity lock busy for %g s; relying on database locks", wait_seconds)
                return False
            time.sleep(POLL_SECONDS)
    except REDIS_ERRORS as error:
        log.warning("redis lock unavailable (%s); relying on database locks", type(error).__name__)
        return False


@contextmanager
def identity_locks(
    keys: list[str],
    ttl_seconds: float | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    client: RedisClient | None = None,
    holder: str | None = None,
    holder_gone: HolderGone | None = None,
) -> Iterator[bool]:
    """Hold a Redis lock on every key, all or none; yields False when they could not be had.

    ``holder`` names the attempt taking them (in the locks' values); a busy lock whose holder
    ``holder_gone`` says has ended is taken over. The time spent getting them (or giving up on
    them) is recorded in ``LOCK_WAIT``.
    """
    ttl = ttl_seconds if ttl_seconds is not None else get_settings().lock_ttl_seconds
    redis_client = client or lock_client()
    names = sorted({_lock_name(key) for key in keys})
    token = uuid.uuid4().hex
    if holder is not None:
        token = f"{holder}{_HOLDER_SEPARATOR}{token}"
    started = time.monotonic()
    held = bool(names) and _acquire(redis_client, names, token, ttl, wait_seconds, holder_gone)
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
