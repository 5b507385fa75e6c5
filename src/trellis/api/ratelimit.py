"""Per-client rate limits for the public endpoints (tracking, site tracking, forms, assets and
landing pages): a token bucket per key (the client's address).

One process keeps its buckets in memory. Several processes (API servers behind a load
balancer) share them in Redis when one is configured, so that N processes do not allow N
times the limit: each check is one atomic script in Redis, timed by Redis's own clock. If Redis
does not answer, a process falls back to its own buckets (a limit per process is better than
none, and better than refusing everyone) and says so in the log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    async def allow(self, key: str) -> bool:
        """Take one token from ``key``'s bucket; False when it is empty."""
        ...

    async def aclose(self) -> None: ...


class LocalRateLimiter:
    """A token bucket per key in this process; idle buckets are forgotten."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._swept = time.monotonic()

    def take(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        if now - self._swept > 60:
            idle = now - self.burst / self.rate
            self._buckets = {k: v for k, v in self._buckets.items() if v[1] > idle}
            self._swept = now
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True

    async def allow(self, key: str) -> bool:
        return self.take(key)

    async def aclose(self) -> None:
        return None


# KEYS[1]: the bucket; ARGV: rate per second, burst. Returns 1 (allowed) or 0.
_BUCKET_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return allowed
"""


class RedisRateLimiter:
    """The same bucket, shared by every process through Redis."""

    def __init__(self, redis: Redis, *, name: str, rate: float, burst: int) -> None:
        self.redis = redis
        self.name = name
        self.rate = rate
        self.burst = burst
        self._script = redis.register_script(_BUCKET_SCRIPT)
        self._fallback = LocalRateLimiter(rate, burst)
        self._degraded_since: float | None = None

    async def allow(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        try:
            allowed = await self._script(
                keys=[f"trellis:ratelimit:{self.name}:{key}"], args=[self.rate, self.burst]
            )
        except Exception:
            if self._degraded_since is None:
                self._degraded_since = time.monotonic()
                log.warning(
                    "Redis does not answer: rate limits count in this process only",
                    exc_info=True,
                    extra={"limit": self.name},
                )
            return self._fallback.take(key)
        if self._degraded_since is not None:
            log.info("Redis answers again: rate limits are shared", extra={"limit": self.name})
            self._degraded_since = None
        return bool(allowed)

    async def aclose(self) -> None:
        await self.redis.aclose()


@dataclass(frozen=True)
class Limit:
    name: str
    rate: float
    burst: int


def build_limiter(limit: Limit, redis_url: str | None) -> RateLimiter:
    if redis_url is None:
        return LocalRateLimiter(limit.rate, limit.burst)
    from redis.asyncio import Redis

    # Short timeouts: a rate check must never hold a request for long.
    client = Redis.from_url(redis_url, socket_timeout=0.25, socket_connect_timeout=0.25)
    return RedisRateLimiter(client, name=limit.name, rate=limit.rate, burst=limit.burst)
