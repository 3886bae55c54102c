"""X-Forwarded-For is believed only from the proxies in BW_TRUSTED_PROXIES (none by
default). The gateway runs as production starts it (a uvicorn process from
`shared.stack`), since uvicorn itself trusts the header from 127.0.0.1 unless told not to;
the probe behind it is in process, so what reached it can be checked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from shared.settings import Settings
from shared.stack import Stack, free_port
from tests.gateway import probe
from tests.gateway.world import Platform, platform_settings, serve, stop
from tests.helpers import TEST_SECRET


@asynccontextmanager
async def gateway_process(probe_database: str, **env: str) -> AsyncIterator[str]:
    """A gateway process in front of an in-process probe (as billing); yields its URL."""
    probe_port = free_port()
    server = await serve(create_probe_app(probe_database, probe_port), probe_port)
    dead = free_port()
    ports = {"gateway": free_port(), "billing": probe_port}
    ports |= dict.fromkeys(("eligibility", "reports", "cycles", "integrations"), dead)
    stack = Stack(
        ports,
        {
            "BW_ENV": "test",
            "BW_JWT_SECRET": TEST_SECRET,
            "BW_LOG_LEVEL": "ERROR",
            "BW_RATE_LIMIT_PER_MINUTE": "60",
            "BW_RATE_LIMIT_BURST": "2",
            **env,
        },
    )
    stack.start(["gateway"])
    try:
        await asyncio.to_thread(stack.wait_healthy, ["gateway"])
        yield stack.url("gateway")
    finally:
        await asyncio.to_thread(stack.stop)
        await stop(*server)


def create_probe_app(probe_database: str, port: int) -> Any:
    return probe.create_probe(platform_settings(probe_database, port))


async def _pings(base_url: str, forwarded_for: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        return [
            await client.get(
                "/v1/billing/public/ping",
                headers={"X-Forwarded-For": ip, "X-Request-ID": uuid.uuid4().hex},
            )
            for ip in forwarded_for
        ]


def _arrival(reply: httpx.Response) -> probe.Arrival:
    request_id = reply.headers["x-request-id"]
    return next(a for a in probe.ARRIVALS if a.request_id == request_id)


def _forwarded_for(reply: httpx.Response) -> list[str]:
    return _arrival(reply).header("x-forwarded-for")


async def test_forwarded_for_does_not_spoof_the_per_ip_limit(probe_database: str) -> None:
    async with gateway_process(probe_database) as url:
        replies = await _pings(url, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert "127.0.0.1" in replies[2].json()["detail"]  # the peer's own address was limited
    # The service is told the address the gateway believed, never the client's claim.
    assert _forwarded_for(replies[0]) == ["127.0.0.1"]


async def test_forwarded_for_from_a_trusted_proxy_is_the_client(probe_database: str) -> None:
    async with gateway_process(probe_database, BW_TRUSTED_PROXIES="127.0.0.0/8") as url:
        replies = await _pings(url, ["203.0.113.1"] * 3 + ["198.51.100.7, 203.0.113.9"])
    assert [r.status_code for r in replies] == [200, 200, 429, 200]
    assert "203.0.113.1" in replies[2].json()["detail"]
    assert _forwarded_for(replies[0]) == ["203.0.113.1"]
    # The nearest untrusted address in the chain is the client (the rest is its claim).
    assert _forwarded_for(replies[3]) == ["203.0.113.9"]


@pytest.mark.parametrize(
    "header", ["x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host"]
)
async def test_clients_forwarding_headers_are_not_passed_on(
    platform: Platform, header: str
) -> None:
    async with platform.client() as client:
        reply = await client.get(
            "/v1/billing/public/ping",
            headers={header: "for=6.6.6.6" if header == "forwarded" else "6.6.6.6"},
        )
    assert reply.status_code == 200
    assert _forwarded_for(reply) == ["127.0.0.1"]
    if header != "x-forwarded-for":
        assert _arrival(reply).header(header) == []


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("", []),
        ("10.0.0.1", ["10.0.0.1"]),
        (" 10.0.0.0/8, 192.168.1.7 ,fd00::/8", ["10.0.0.0/8", "192.168.1.7", "fd00::/8"]),
    ],
)
def test_trusted_proxies_setting(value: str, parsed: list[str]) -> None:
    assert Settings(BW_TRUSTED_PROXIES=value).trusted_proxy_list == parsed


@pytest.mark.parametrize("value", ["*", "gateway.internal", "10.0.0.300", "10.0.0.0/33"])
def test_trusted_proxies_must_be_addresses(value: str) -> None:
    with pytest.raises(ValidationError, match="BW_TRUSTED_PROXIES"):
        Settings(BW_TRUSTED_PROXIES=value)
