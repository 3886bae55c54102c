"""The token bucket, in memory and in Redis (shared by gateway replicas)."""

from __future__ import annotations

import uuid

import pytest

from gateway.ratelimit import MemoryLimiter, RedisLimiter, retry_after


async def test_memory_bucket_allows_burst_then_refuses() -> None:
    limiter = MemoryLimiter(per_minute=60, burst=2)
    assert await limiter.acquire("k") == 0
    assert await limiter.acquire("k") == 0
    wait = await limiter.acquire("k")
    assert 0 < wait <= 1.0
    assert retry_after(wait) == "1"
    assert await limiter.acquire("other") == 0


async def test_redis_bucket_is_shared_between_limiters() -> None:
    key = f"test-{uuid.uuid4().hex}"
    first = RedisLimiter("redis://127.0.0.1:6379/0", per_minute=60, burst=2)
    second = RedisLimiter("redis://127.0.0.1:6379/0", per_minute=60, burst=2)
    try:
        try:
            assert await first.acquire(key) == 0
        except OSError as exc:  # pragma: no cover - the machine always runs Redis
            pytest.fail(f"Redis at 127.0.0.1:6379 is not reachable: {exc}")
        assert await second.acquire(key) == 0  # the second replica spends the same bucket
        assert await first.acquire(key) > 0
    finally:
        await first.close()
        await second.close()
