"""Redis clients by URL, one per process and URL."""

from __future__ import annotations

import os
from functools import lru_cache

import redis


@lru_cache(maxsize=8)
def _client(url: str, pid: int) -> redis.Redis:
    if url.startswith("redis+socket://"):
        url = "unix://" + url[len("redis+socket://") :]
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_for(url: str) -> redis.Redis:
    """A client for ``url``; a forked child gets its own connection pool."""
    return _client(url, os.getpid())
