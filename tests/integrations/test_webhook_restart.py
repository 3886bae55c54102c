"""kill -9 of the integrations process in the middle of a delivery loses nothing: a new
process delivers it once the dead one's lease has run out (real processes, PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from shared.stack import Stack
from tests import databases as dbmod
from tests import helpers
from tests.helpers import process_env
from tests.integrations.world import Receiver

pytestmark = pytest.mark.postgres


async def test_kill_9_mid_delivery_loses_nothing(
    own_databases: dbmod.TestDatabases, receiver: Receiver, tmp_path: Path
) -> None:
    release = asyncio.Event()

    async def hang_first(calls: int) -> web.StreamResponse:
        if calls == 1:
            await release.wait()  # the first process dies while waiting here
        return web.Response(status=204)

    receiver.answer = hang_first  # type: ignore[assignment]
    env = process_env(
        own_databases,
        BW_EVENTS_POLL_SECONDS="0.05",
        BW_WEBHOOK_TIMEOUT_SECONDS="30",
        BW_WEBHOOK_LEASE_SECONDS="2",
        BW_DB_POOL_SIZE="2",
        BW_DB_MAX_OVERFLOW="2",
    )
    stack = Stack.on_free_ports(env, log_dir=tmp_path)
    settings = helpers.test_settings(own_databases.urls)
    headers = {"Authorization": "Bearer " + helpers.token_for(settings, "partner", "buyer-1")}
    try:
        stack.start(["integrations"])
        await asyncio.to_thread(stack.wait_healthy, ["integrations"], 120)
        async with httpx.AsyncClient(
            base_url=stack.url("integrations"), headers=headers, timeout=10
        ) as client:
            made = (await client.post("/webhook-endpoints", json={"url": receiver.url})).json()
            sent = (await client.post(f"/webhook-endpoints/{made['id']}/test")).json()
            for _ in range(200):  # the first attempt reaches the receiver and hangs
                if receiver.calls:
                    break
                await asyncio.sleep(0.05)
            assert receiver.calls == 1
            stack.kill("integrations")
            release.set()
            stack.start(["integrations"])
            await asyncio.to_thread(stack.wait_healthy, ["integrations"], 120)
            for _ in range(200):
                if receiver.calls >= 2:
                    break
                await asyncio.sleep(0.05)
            ids = [h["webhook-id"] for h, _ in receiver.received]
            assert ids == [sent["event_id"]] * 2  # at-least-once: the same id again
            for _ in range(100):
                attempts = (await client.get(f"/webhook-endpoints/{made['id']}/attempts")).json()
                if attempts["items"]:
                    break
                await asyncio.sleep(0.05)
            assert [(a["attempt"], a["status_code"]) for a in attempts["items"]] == [(2, 204)]
    finally:
        stack.stop()
