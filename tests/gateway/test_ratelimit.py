"""The token bucket, in memory and in Redis (shared by gateway replicas), and the IETF
RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers) it announces on
every reply that counts against a limit, 429s included."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from shared.ratelimit import MemoryLimiter, RateLimiter, RedisLimiter, retry_after
from tests.gateway.world import Platform, assert_problem
from tests.helpers import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., RateLimiter]]:
    made: list[RateLimiter] = []

    def make(*, per_minute: int, burst: int) -> RateLimiter:
        if request.param == "memory":
            made.append(MemoryLimiter(per_minute=per_minute, burst=burst))
        else:
            made.append(RedisLimiter(REDIS_URL, per_minute=per_minute, burst=burst))
        return made[-1]

    yield make
    for each in made:
        await each.close()


def _key() -> str:
    return f"test-{uuid.uuid4().hex}"


async def test_bucket_allows_burst_then_refuses(limiter: Callable[..., RateLimiter]) -> None:
    bucket, key = limiter(per_minute=60, burst=2), _key()
    first, second, third = [await bucket.acquire(key) for _ in range(3)]
    assert (first.allowed, first.remaining) == (True, 1)
    assert (second.allowed, second.remaining) == (True, 0)
    assert (third.allowed, third.remaining) == (False, 0)
    assert 0 < third.wait_s <= 1.0
    assert retry_after(third.wait_s) == "1"
    assert (await bucket.acquire(_key())).allowed


async def test_effective_window_is_the_time_to_the_next_unit(
    limiter: Callable[..., RateLimiter],
) -> None:
    # 6 a minute: one unit every 10 s. After a request the bucket is refilling, so the
    # client can use no more than `remaining` for the next 10 s (rounded up, never 0).
    bucket, key = limiter(per_minute=6, burst=2), _key()
    decisions = [await bucket.acquire(key) for _ in range(3)]
    assert [d.remaining for d in decisions] == [1, 0, 0]
    assert [d.reset_s for d in decisions] == [10, 10, 10]
    assert retry_after(decisions[2].wait_s) == "10"  # Retry-After = the end of the window


async def test_redis_bucket_is_shared_between_limiters() -> None:
    key = _key()
    first = RedisLimiter(REDIS_URL, per_minute=60, burst=2)
    second = RedisLimiter(REDIS_URL, per_minute=60, burst=2)
    try:
        try:
            assert (await first.acquire(key)).allowed
        except OSError as exc:  # pragma: no cover - the machine always runs Redis
            pytest.fail(f"Redis at 127.0.0.1:6379 is not reachable: {exc}")
        decision = await second.acquire(key)  # the second replica spends the same bucket
        assert (decision.allowed, decision.remaining) == (True, 0)
        assert not (await first.acquire(key)).allowed
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_every_limited_reply_carries_the_ratelimit_fields(
    platform_factory: Callable[..., Any], store: str
) -> None:
    redis = {"BW_REDIS_URL": REDIS_URL} if store == "redis" else {}
    limited: Platform = await platform_factory(
        BW_RATE_LIMIT_PER_MINUTE=60, BW_RATE_LIMIT_BURST=3, **redis
    )
    org = f"brand-{uuid.uuid4().hex[:8]}"
    async with limited.client("partner", org) as client:
        replies = [await client.get("/v1/billing/things/x") for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    for reply in replies:
        assert reply.headers.get_list("ratelimit-policy") == ['"default";q=60;w=60;bw-burst=3']
    assert [r.headers["ratelimit"] for r in replies] == [
        '"default";r=2;t=1',
        '"default";r=1;t=1',
        '"default";r=0;t=1',
        '"default";r=0;t=1',
    ]
    refused = replies[3]
    assert_problem(refused, 429)
    assert refused.headers["retry-after"] == "1"


async def test_public_replies_count_per_ip_and_say_so(platform_factory: Callable[..., Any]) -> None:
    limited: Platform = await platform_factory(BW_RATE_LIMIT_PER_MINUTE=600, BW_RATE_LIMIT_BURST=5)
    async with limited.client() as client:
        reply = await client.get("/v1/billing/public/ping")
    assert reply.status_code == 200
    assert reply.headers["ratelimit-policy"] == '"default";q=600;w=60;bw-burst=5'
    assert reply.headers["ratelimit"] == '"default";r=4;t=1'


async def test_service_errors_count_and_say_so(platform: Platform) -> None:
    async with platform.client("partner") as client:
        reply = await client.get("/v1/billing/boom")
    assert reply.status_code == 500
    assert reply.headers["ratelimit-policy"] == '"default";q=1000000;w=60;bw-burst=1000000'
    assert reply.headers["ratelimit"].startswith('"default";r=')


async def test_replies_not_counted_carry_no_ratelimit_fields(platform: Platform) -> None:
    async with platform.client() as client:
        unauthorised = await client.get("/v1/billing/things/x")
        health = await client.get("/healthz")
    assert unauthorised.status_code == 401 and health.status_code == 200
    for reply in (unauthorised, health):
        assert "ratelimit" not in reply.headers and "ratelimit-policy" not in reply.headers
