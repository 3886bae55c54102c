"""Per-organisation rate limits: a token bucket of `burst` requests refilled at
`per_minute`. In memory for one replica (`make run`), in Redis when `BW_REDIS_URL` is set
so that all gateway replicas share one budget per organisation."""

from __future__ import annotations

import math
import time
from typing import Protocol

__all__ = ["MemoryLimiter", "RateLimiter", "RedisLimiter"]


class RateLimiter(Protocol):
    async def acquire(self, key: str) -> float:
        """0 when the request may pass, else the seconds to wait before retrying."""
        ...

    async def close(self) -> None: ...


class MemoryLimiter:
    def __init__(self, *, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    async def acquire(self, key: str) -> float:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens >= 1.0:
            if len(self._buckets) >= self.max_keys and key not in self._buckets:
                self._buckets.clear()  # crude bound on memory; buckets refill anyway
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    async def close(self) -> None:
        return None


# Atomic token bucket: KEYS[1] = bucket, ARGV = rate per second, burst, now (seconds).
_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisLimiter:
    def __init__(self, url: str, *, per_minute: int, burst: int) -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url)
        self.rate = per_minute / 60.0
        self.burst = burst
        self._script = self.client.register_script(_LUA)

    async def acquire(self, key: str) -> float:
        wait = await self._script(keys=[f"bw:rl:{key}"], args=[self.rate, self.burst, time.time()])
        return float(wait)

    async def close(self) -> None:
        await self.client.aclose()


def retry_after(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))
