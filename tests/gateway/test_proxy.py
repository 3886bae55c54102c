"""The gateway's proxy and the platform's error handling: problem+json on every error
status, request ids, bodies both ways, limits, and services that are down, slow or broken."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from shared.stack import free_port
from tests.gateway.world import Platform, assert_problem


async def test_request_id_is_echoed_and_forwarded(platform: Platform) -> None:
    async with platform.client("partner") as client:
        reply = await client.post(
            "/v1/billing/echo", json={"text": "hi"}, headers={"X-Request-ID": "trace-123"}
        )
    assert reply.headers["x-request-id"] == "trace-123"
    assert reply.json()["request_id"] == "trace-123"  # the service saw the same id


async def test_request_id_is_minted_when_missing_or_unsafe(platform: Platform) -> None:
    async with platform.client("partner") as client:
        minted = await client.post("/v1/billing/echo", json={"text": "hi"})
        unsafe = await client.post(
            "/v1/billing/echo", json={"text": "hi"}, headers={"X-Request-ID": "x y\tz" * 50}
        )
    assert len(minted.headers["x-request-id"]) == 32
    assert minted.json()["request_id"] == minted.headers["x-request-id"]
    assert unsafe.headers["x-request-id"] != "x y\tz" * 50


async def test_reply_headers_are_not_duplicated(platform: Platform) -> None:
    async with platform.client("partner") as client:
        reply = await client.get("/v1/billing/things/a")
    assert len(reply.headers.get_list("date")) == 1
    assert len(reply.headers.get_list("x-request-id")) == 1


@pytest.mark.parametrize(
    "raw", ["/things/a%2Fb", "/things/%1F%7F", "/things/caf%C3%A9", "/things/%25"]
)
async def test_paths_pass_through_as_encoded(platform: Platform, raw: str) -> None:
    async with platform.client("partner") as via, platform.client("partner", direct=True) as direct:
        through = await via.get("/v1/billing" + raw)
        straight = await direct.get(raw)
    assert through.status_code == straight.status_code
    assert through.json() == straight.json() or through.status_code >= 400


async def test_query_strings_pass_through(platform: Platform) -> None:
    async with platform.client("partner") as client:
        reply = await client.get("/v1/billing/slow", params={"seconds": "0.01"})
    assert reply.json() == {"slept": 0.01}


async def test_large_bodies_stream_through(platform: Platform) -> None:
    text = "x" * 900_000  # above the proxy's buffering threshold, below the 1 MiB limit
    async with platform.client("partner") as client:
        reply = await client.post("/v1/billing/echo", json={"text": text, "count": 3})
    assert reply.status_code == 200, reply.text
    assert reply.json()["text_length"] == 900_000


async def test_chunked_bodies_stream_through(platform: Platform) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'", "count": 1}'

    async with platform.client("partner") as client:
        reply = await client.post(
            "/v1/billing/echo", content=chunks(), headers={"content-type": "application/json"}
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["text_length"] == 100_000


@pytest.mark.parametrize("direct", [False, True], ids=["gateway", "service"])
async def test_oversized_bodies_are_413(platform: Platform, direct: bool) -> None:
    path = "/echo" if direct else "/v1/billing/echo"
    async with platform.client("partner", direct=direct) as client:
        reply = await client.post(path, json={"text": "z" * 2_000_000})
    assert_problem(reply, 413, detail_contains="limit")


async def test_oversized_chunked_body_is_413(platform: Platform) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        # Just over the 1 MiB limit, so the client has sent it all before the 413 arrives.
        for _ in range(17):
            yield b"z" * 64_000

    async with platform.client("partner", direct=True) as client:
        reply = await client.post(
            "/echo", content=chunks(), headers={"content-type": "application/json"}
        )
    assert_problem(reply, 413)


@pytest.mark.parametrize("direct", [False, True], ids=["gateway", "service"])
async def test_huge_headers_are_431(platform: Platform, direct: bool) -> None:
    path = "/things/a" if direct else "/v1/billing/things/a"
    async with platform.client("partner", direct=direct) as client:
        reply = await client.get(path, headers={"X-Junk": "j" * 40_000})
    assert_problem(reply, 431)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"text": "unterminated', "application/json"),
        (b"text=hello", "application/x-www-form-urlencoded"),
        (b"<xml/>", "application/xml"),
        (b'{"text": 5}', "application/json"),
        (b'{"count": 1}', "application/json"),
        (b"[]", "application/json"),
    ],
)
async def test_bad_bodies_are_422_problems(
    platform: Platform, body: bytes, content_type: str
) -> None:
    async with platform.client("partner") as client:
        reply = await client.post(
            "/v1/billing/echo", content=body, headers={"content-type": content_type}
        )
    problem = assert_problem(reply, 422)
    assert problem["errors"], problem


async def test_unknown_query_parameters_are_refused(platform: Platform) -> None:
    async with platform.client("partner") as client:
        reply = await client.get("/v1/billing/moves", params={"limt": "5"})
    assert_problem(reply, 422, detail_contains="limt")


async def test_unknown_paths_and_methods(platform: Platform) -> None:
    async with platform.client("partner") as client:
        assert_problem(await client.get("/v1/nowhere/things"), 404, detail_contains="services are")
        assert_problem(await client.get("/v1/billing/no-such-thing"), 404)
        assert_problem(await client.delete("/v1/billing/things/a"), 405)
        assert_problem(await client.get("/no-such-page"), 404)


async def test_unexpected_errors_say_only_internal_error(platform: Platform) -> None:
    async with platform.client("partner") as client:
        reply = await client.get("/v1/billing/boom")
    problem = assert_problem(reply, 500)
    assert problem["detail"] == "internal error"
    assert problem["request_id"] == reply.headers["x-request-id"]
    assert "secret internal detail" not in reply.text


async def test_service_down_is_503(platform: Platform) -> None:
    async with platform.client("partner") as client:
        reply = await client.get("/v1/cycles/anything")
    assert_problem(reply, 503, detail_contains="cycles service is not available")


async def test_slow_service_is_504(platform_factory: Callable[..., Any]) -> None:
    impatient: Platform = await platform_factory(BW_UPSTREAM_TIMEOUT=0.5)
    async with impatient.client("partner") as client:
        reply = await client.get("/v1/billing/slow", params={"seconds": "2"})
    assert_problem(reply, 504, detail_contains="did not answer in time")


async def _broken_server(reply: bytes) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        writer.close()

    port = free_port()
    return await asyncio.start_server(handle, "127.0.0.1", port), port


@pytest.mark.parametrize("garbage", [b"this is not http\r\n\r\n", b""], ids=["garbage", "hang-up"])
async def test_broken_service_is_502(platform_factory: Callable[..., Any], garbage: bytes) -> None:
    server, port = await _broken_server(garbage)
    async with server:
        broken: Platform = await platform_factory(REPORTS_URL=f"http://127.0.0.1:{port}")
        async with broken.client("partner") as client:
            reply = await client.get("/v1/reports/anything")
    assert_problem(reply, 502)


async def test_rate_limit_per_organisation(platform_factory: Callable[..., Any]) -> None:
    limited: Platform = await platform_factory(BW_RATE_LIMIT_PER_MINUTE=60, BW_RATE_LIMIT_BURST=3)
    async with limited.client("partner", "brand-a") as a, limited.client("partner", "brand-b") as b:
        statuses = [(await a.get("/v1/billing/things/x")).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = await a.get("/v1/billing/things/x")
        problem = assert_problem(refused, 429, detail_contains="brand-a")
        assert int(refused.headers["retry-after"]) >= 1
        assert problem["status"] == 429
        assert (await b.get("/v1/billing/things/x")).status_code == 200  # another org is unaffected
