"""Wake-ups: one message asks a worker to drain a config's fresh events, one pending at a time.

The web sends a wake-up for a config only when none is pending (a Redis key with a TTL, set with
``NX``); the worker releases the key before it claims, so an event committed after the release
sends the next wake-up, and one committed before it is seen by the claim. A wake-up lost on the
way costs at most the TTL before the next event sends another, and the sweeper re-enqueues
whatever stays queued: no accepted event depends on a wake-up arriving.
"""

from __future__ import annotations

import uuid

from common.redis_client import RedisClient, redis_for
from common.settings import get_settings

WAKE_TASK = "leadgate.wake"


def wake_key(config_id: uuid.UUID | str) -> str:
    """The Redis key that marks a pending wake-up for the config."""
    return f"{get_settings().broker_key_prefix}leadgate:wake:{config_id}"


def _redis() -> RedisClient:
    return redis_for(get_settings().locks_redis_url)


def mark_wake_pending(config_id: uuid.UUID | str) -> bool:
    """True when no wake-up was pending for the config and this caller should send one."""
    ttl_ms = max(1, round(get_settings().wake_pending_seconds * 1000))
    return bool(_redis().set(wake_key(config_id), b"1", nx=True, px=ttl_ms))


def clear_wake_pending(config_id: uuid.UUID | str) -> None:
    """Forget the pending wake-up, so the next event sends a new one."""
    _redis().delete(wake_key(config_id))
