"""A per-config token bucket in Redis: shared by every web process, timed by Redis's clock."""

from __future__ import annotations

import logging
import math

import redis

from common.redis_client import redis_for
from common.settings import get_settings
from webhook.auth import EndpointConfig
from webhook.errors import ApiError

log = logging.getLogger(__name__)

# KEYS[1]: the bucket. ARGV: rate per second, burst. Returns {allowed, seconds to wait}.
# Redis's own TIME keeps several web hosts with skewed clocks on one timeline.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


def check_rate_limit(config: EndpointConfig) -> None:
    """Raise 429 with Retry-After when the config's bucket is empty; no limit set, no check."""
    rate = config.rate_limit_per_second
    if rate is None:
        return
    burst = config.rate_limit_burst or max(1, math.ceil(rate))
    try:
        client = redis_for(get_settings().locks_redis_url)
        allowed, wait = client.eval(_BUCKET_SCRIPT, 1, f"leadgate:rate:{config.id}", rate, burst)
    except redis.RedisError as error:
        # Limiting protects capacity; refusing every provider because Redis blinked would not.
        log.warning("rate limit unavailable (%s); request let through", type(error).__name__)
        return
    if int(allowed) != 1:
        retry_after = max(1, math.ceil(float(wait)))
        raise ApiError(
            429,
            f"Rate limit of {rate:g} requests per second exceeded on this endpoint.",
            headers={"Retry-After": str(retry_after)},
        )
