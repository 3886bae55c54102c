"""Helpers for the integrations tests: taking events in when a test says so, reading the
feed, delivering webhooks, and a real HTTP webhook receiver (`Receiver`, served by
`webhook_receiver`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from fastapi import FastAPI

from services.integrations.jobs import delivery, ingest
from shared.stack import free_port
from tests.inprocess import Api


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
        return [json.loads(body) for _, body in self.received]


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    """A `Receiver` listening on a free port until the block ends (the `receiver` fixture)."""
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
