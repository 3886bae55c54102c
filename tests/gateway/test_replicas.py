"""The gateway in front of several replicas of a service (`shared.replicas`): requests go
round them, a refused connection goes on to the next replica, and a request that breaks
off on a replica that said it is draining is a 503 to retry, not a 502."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from shared.replicas import DOWN_S, DRAINING_S, Replicas
from shared.stack import free_port
from tests.gateway.world import Platform, assert_problem

DOCUMENT = json.dumps(
    {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
     "paths": {"/things": {"post": {"responses": {"200": {"description": "ok"}}}}}}
).encode()  # fmt: skip


def _reply(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join([*head, *extra, "", ""])).encode() + body


@asynccontextmanager
async def replica(name: str, script: list[str]) -> AsyncIterator[tuple[int, list[str]]]:
    """A scripted replica: the OpenAPI document whenever asked; for each POST the next step
    of `script`: `ok`, `draining` (ok, and says it is shutting down) or `hang-up`."""
    served: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            size = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")]
            if size:
                await reader.readexactly(int(size[0].split(b":")[1]))
            if head.startswith(b"GET /openapi.json"):
                writer.write(_reply(DOCUMENT))
            else:
                step = script.pop(0) if script else "ok"
                served.append(step)
                if step == "hang-up":
                    break
                body = json.dumps({"replica": name}).encode()
                writer.write(_reply(body, "x-service-draining: 1") if step == "draining" else
                             _reply(body))  # fmt: skip
            await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        yield port, served


async def test_requests_go_round_the_replicas_and_past_a_dead_one(
    platform_factory: Callable[..., Any],
) -> None:
    dead = free_port()
    async with replica("a", []) as (a, _), replica("b", []) as (b, _):
        urls = ",".join(f"http://127.0.0.1:{p}" for p in (a, dead, b))
        gateway: Platform = await platform_factory(REPORTS_URL=urls)
        async with gateway.client() as client:
            replies = [await client.post("/v1/reports/things", json={}) for _ in range(6)]
    assert [r.status_code for r in replies] == [200] * 6  # the refused one is never seen
    assert {r.json()["replica"] for r in replies} == {"a", "b"}


async def test_a_request_cut_off_by_a_draining_replica_is_503_to_retry(
    platform_factory: Callable[..., Any],
) -> None:
    async with replica("a", ["draining", "hang-up"]) as (port, served):
        gateway: Platform = await platform_factory(REPORTS_URL=f"http://127.0.0.1:{port}")
        async with gateway.client() as client:
            first = await client.post("/v1/reports/things", json={})
            cut = await client.post("/v1/reports/things", json={})
    assert first.status_code == 200
    assert "x-service-draining" not in first.headers  # between service and gateway only
    assert served == ["draining", "hang-up"]
    assert_problem(cut, 503)
    assert cut.headers["retry-after"] == "1"


async def test_a_request_cut_off_by_a_replica_in_service_is_still_502(
    platform_factory: Callable[..., Any],
) -> None:
    """Without the warning, a hang-up may come after the work was done: not to be retried
    blindly, so it stays a 502 (Bad Gateway)."""
    async with replica("a", ["ok", "hang-up"]) as (port, _):
        gateway: Platform = await platform_factory(REPORTS_URL=f"http://127.0.0.1:{port}")
        async with gateway.client() as client:
            assert (await client.post("/v1/reports/things", json={})).status_code == 200
            assert_problem(await client.post("/v1/reports/things", json={}), 502)


@pytest.mark.parametrize("mark", ["down", "draining"])
def test_a_replica_out_of_the_turn_is_tried_last_and_comes_back(
    monkeypatch: pytest.MonkeyPatch, mark: str
) -> None:
    now = [1000.0]
    monkeypatch.setattr("shared.replicas.time.monotonic", lambda: now[0])
    replicas = Replicas(["a", "b", "c"])
    assert [replicas.order()[0] for _ in range(3)] == ["a", "b", "c"]
    getattr(replicas, mark)("b")
    assert [replicas.order() for _ in range(3)] == [
        ["a", "c", "b"],
        ["c", "a", "b"],
        ["c", "a", "b"],
    ]
    assert replicas.was_draining("b") is (mark == "draining")
    now[0] += max(DOWN_S, DRAINING_S) + 1
    assert replicas.order() == ["a", "b", "c"] and not replicas.was_draining("b")
