"""Two integrations processes on one PostgreSQL (real processes): every event is taken in
once and delivered once per endpoint, whichever replica works it, and both feeds agree."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from shared.stack import Stack, free_port
from tests import databases as dbmod
from tests import helpers
from tests.helpers import process_env
from tests.integrations.world import Receiver

pytestmark = pytest.mark.postgres

PURCHASES = 20


async def _eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_two_replicas_take_in_and_deliver_each_event_once(
    own_databases: dbmod.TestDatabases, receiver: Receiver, tmp_path: Path
) -> None:
    env = process_env(
        own_databases,
        BW_EVENTS_POLL_SECONDS="0.05",
        BW_DB_POOL_SIZE="3",
        BW_DB_MAX_OVERFLOW="2",
    )
    first = Stack.on_free_ports(env, log_dir=tmp_path / "first")
    second = Stack({**first.ports, "integrations": free_port()}, env, log_dir=tmp_path / "second")
    settings = helpers.test_settings(own_databases.urls)

    def auth(role: str, org: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + helpers.token_for(settings, role, org)}

    try:
        first.start(["billing", "integrations"])
        second.start(["integrations"])
        await asyncio.to_thread(first.wait_healthy, ["billing", "integrations"], 120)
        await asyncio.to_thread(second.wait_healthy, ["integrations"], 120)
        async with httpx.AsyncClient(timeout=30) as http:
            made = await http.post(
                first.url("integrations") + "/webhook-endpoints",
                json={"url": receiver.url},
                headers=auth("participant", "buyer-1"),
            )
            assert made.status_code == 201, made.text

            async def purchase() -> None:
                reply = await http.post(
                    first.url("billing") + "/invoices",
                    json={"kind": "credits", "year": 2025, "report_cycles": 1},
                    headers={
                        **auth("participant", "buyer-1"),
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                )
                assert reply.status_code == 201, reply.text

            await asyncio.gather(*(purchase() for _ in range(PURCHASES)))

            async def all_delivered() -> bool:
                return len(receiver.received) >= PURCHASES

            await _eventually(all_delivered)
            await asyncio.sleep(1.0)  # time for a duplicate to show, if there were one
            ids = [headers["webhook-id"] for headers, _ in receiver.received]
            assert len(ids) == PURCHASES and len(set(ids)) == PURCHASES
            feeds = []
            for stack in (first, second):
                page = await http.get(
                    stack.url("integrations") + "/events",
                    params={"limit": 500},
                    headers=auth("participant", "buyer-1"),
                )
                feeds.append(page.json()["items"])
            assert feeds[0] == feeds[1]
            assert [e["sequence"] for e in feeds[0]] == list(range(1, PURCHASES + 1))
            assert {e["id"] for e in feeds[0]} == set(ids)
    finally:
        second.stop()
        first.stop()
