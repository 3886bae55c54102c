"""Per-organisation rate limits: a token bucket of `burst` requests refilled at
`per_minute`. In memory for one replica (`make run`), in Redis when `BW_REDIS_URL` is set
so that all replicas share one budget per organisation. The gateway limits every call;
a service may limit one costly route more tightly (reports' supplier search).

Every decision is announced with the IETF fields (draft-ietf-httpapi-ratelimit-headers):
`RateLimit-Policy: "default";q=<per_minute>;w=60;bw-burst=<burst>` (the sustained quota
per minute; `bw-burst`, a vendor parameter the draft allows, is how many may come at once)
and `RateLimit: "default";r=<remaining>;t=<seconds>`, where `t` is the time until the next
unit comes back: within it the client can use no more than `r`. On a 429 `t` equals
`Retry-After`, as the draft asks (Retry-After not before the end of the window).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Decision",
    "MemoryLimiter",
    "RateLimiter",
    "RedisLimiter",
    "limit_field",
    "make_limiter",
    "policy_field",
    "retry_after",
]

POLICY = '"default"'


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int  # whole requests that may be made now
    wait_s: float  # 0 when allowed, else the seconds until a retry can pass
    reset_s: int  # whole seconds until one more unit is back (the draft's `t`), at least 1

    @classmethod
    def of(cls, *, allowed: bool, tokens: float, rate: float) -> Decision:
        # The bucket holds `tokens` after this request; the next unit arrives when it
        # reaches the next whole number (for a refused request, that is exactly the wait).
        until_next = (math.floor(tokens) + 1 - tokens) / rate
        return cls(
            allowed=allowed,
            remaining=max(0, math.floor(tokens)),
            wait_s=0.0 if allowed else (1.0 - tokens) / rate,
            reset_s=max(1, math.ceil(until_next)),
        )


class RateLimiter(Protocol):
    async def acquire(self, key: str) -> Decision:
        """Spend one unit of `key`'s bucket if there is one."""
        ...

    async def close(self) -> None: ...


class MemoryLimiter:
    def __init__(self, *, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    async def acquire(self, key: str) -> Decision:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            if len(self._buckets) >= self.max_keys and key not in self._buckets:
                self._buckets.clear()  # crude bound on memory; buckets refill anyway
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        return Decision.of(allowed=allowed, tokens=tokens, rate=self.rate)

    async def close(self) -> None:
        return None


# Atomic token bucket: KEYS[1] = bucket, ARGV = rate per second, burst, now (seconds).
# Returns {1 if allowed else 0, tokens left} (tokens as a string: Lua numbers become
# integers on the way out).
_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""


class RedisLimiter:
    def __init__(self, url: str, *, per_minute: int, burst: int, prefix: str = "") -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url)
        self.rate = per_minute / 60.0
        self.burst = burst
        self.prefix = prefix  # keeps a route's buckets apart from the gateway's
        self._script = self.client.register_script(_LUA)

    async def acquire(self, key: str) -> Decision:
        allowed, tokens = await self._script(
            keys=[f"bw:rl:{self.prefix}{key}"], args=[self.rate, self.burst, time.time()]
        )
        return Decision.of(allowed=bool(allowed), tokens=float(tokens), rate=self.rate)

    async def close(self) -> None:
        await self.client.aclose()


def make_limiter(
    *, redis_url: str | None, per_minute: int, burst: int, prefix: str = ""
) -> RateLimiter:
    """The in-memory bucket, or Redis when `redis_url` is set (replicas share it)."""
    if redis_url:
        return RedisLimiter(redis_url, per_minute=per_minute, burst=burst, prefix=prefix)
    return MemoryLimiter(per_minute=per_minute, burst=burst)


def retry_after(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))


def policy_field(*, per_minute: int, burst: int) -> str:
    return f"{POLICY};q={per_minute};w=60;bw-burst={burst}"


def limit_field(decision: Decision) -> str:
    return f"{POLICY};r={decision.remaining};t={decision.reset_s}"
