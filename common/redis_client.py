"""Redis clients by URL, one per process and URL: a single node, a cluster, or via Sentinel."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from redis.sentinel import Sentinel

from common.settings import get_settings

# What the lock and rate-limit code needs of a client: every kind below runs scripts with EVAL.
RedisClient = redis.Redis | RedisCluster

# A cluster client raises some errors of its own outside ``RedisError`` (a slot it cannot map).
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, RedisClusterException)

_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 5}


@lru_cache(maxsize=8)
def _client(
    url: str, pid: int, cluster: bool, sentinels: tuple[tuple[str, int], ...], master: str
) -> RedisClient:
    if url.startswith("redis+socket://"):
        url = "unix://" + url[len("redis+socket://") :]
    if cluster:
        # Any node will do: the client learns the others, and follows slots as they move.
        return RedisCluster.from_url(url, **_TIMEOUTS)
    if sentinels:
        # The URL still gives the database and password; the Sentinels say where the master is
        # now, and the pool asks them again after a failover.
        parts = urlsplit(url)
        database = int(parts.path.lstrip("/") or 0)
        # redis-py types these from 8.2 on and not before: the ignores cover either release.
        sentinel = Sentinel(list(sentinels), sentinel_kwargs=dict(_TIMEOUTS))  # type: ignore[no-untyped-call, unused-ignore]
        found = sentinel.master_for(  # type: ignore[no-untyped-call, unused-ignore]
            master,
            db=database,
            password=parts.password,
            socket_connect_timeout=_TIMEOUTS["socket_connect_timeout"],
            socket_timeout=_TIMEOUTS["socket_timeout"],
        )
        return cast(redis.Redis, found)
    return redis.Redis.from_url(url, **_TIMEOUTS)


def redis_for(url: str) -> RedisClient:
    """A client for ``url`` as the settings deploy Redis; a forked child gets its own pool."""
    settings = get_settings()
    return _client(
        url,
        os.getpid(),
        settings.redis_cluster,
        settings.redis_sentinels,
        settings.redis_sentinel_master,
    )
