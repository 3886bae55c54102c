"""Helpers for the integrations tests: events are taken in when a test says so."""

from __future__ import annotations

from typing import Any

import httpx

from services.integrations.jobs import ingest
from tests.conftest import Api


async def take_in(api: Api) -> int:
    """Pull every source until nothing is left; how many events were taken in."""
    total = 0
    while taken := await ingest.pull_all(api.apps["integrations"]):
        total += taken
    return total


async def feed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    reply = await client.get("/events", params=params)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


# --- webhooks ----------------------------------------------------------------------------

import asyncio  # noqa: E402
from collections.abc import AsyncIterator, Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import pytest  # noqa: E402
from aiohttp import web  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from services.integrations.jobs import delivery  # noqa: E402
from shared.stack import free_port  # noqa: E402
from tests.databases import TestDatabases  # noqa: E402


@dataclass
class Receiver:
    """A real HTTP receiver on 127.0.0.1: records what it gets; `answer` decides the reply
    (status code, or a coroutine for odd behaviour)."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answer: Callable[[int], web.StreamResponse | int] = lambda n: 204
    calls: int = 0

    @property
    def bodies(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(body) for _, body in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    box = Receiver(url=f"http://127.0.0.1:{port}/hook")

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        box.calls += 1
        box.received.append(({k.lower(): v for k, v in request.headers.items()}, body))
        answer = box.answer(box.calls)
        if isinstance(answer, int):
            return web.Response(status=answer)
        result = answer
        if asyncio.iscoroutine(result):
            return await result  # type: ignore[no-any-return]
        return result

    app = web.Application()
    app.router.add_post("/hook", handle)
    # A short shutdown: do not wait for handlers left hanging on purpose.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield box
    await runner.cleanup()


async def deliver_all(app: FastAPI, rounds: int = 20) -> int:
    """Fan out and deliver until nothing is due; how many deliveries were attempted."""
    total = 0
    for _ in range(rounds):
        done = await delivery.work_once(app)
        if not done:
            break
        total += done
    return total


@pytest.fixture
async def own_databases() -> AsyncIterator[TestDatabases]:
    """Fresh PostgreSQL databases for a test that starts its own processes."""
    dbs = TestDatabases(postgres=True, label="own")
    await dbs.create()
    yield dbs
    await dbs.drop()
