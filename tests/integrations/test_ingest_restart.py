"""kill -9 of the integrations process in the middle of a pull (real processes): the
source's reply is in flight, the process holds the source's lease. A new process takes the
source over once the lease lapses and takes in every event once, in order: the batch and
the cursor move in one transaction, so a pull that never stored leaves nothing behind."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from services.integrations.jobs.ingest import LEASE
from shared.stack import Stack
from tests import databases as dbmod
from tests import helpers as root
from tests.faultproxy import FaultProxy
from tests.helpers import process_env

pytestmark = pytest.mark.postgres

BEFORE, AFTER = 8, 4  # invoices issued (one event each) before the kill and after


async def test_kill_9_mid_pull_loses_and_repeats_nothing(
    own_databases: dbmod.TestDatabases, tmp_path: Path
) -> None:
    env = process_env(own_databases, BW_EVENTS_POLL_SECONDS="0.05")
    stack = Stack.on_free_ports(env, log_dir=tmp_path)
    settings = root.test_settings(own_databases.urls)
    buyer = {"Authorization": "Bearer " + root.token_for(settings, "participant", "buyer-1")}

    async def purchases(http: httpx.AsyncClient, count: int) -> None:
        for _ in range(count):
            reply = await http.post(
                stack.url("billing") + "/invoices",
                json={"kind": "credits", "year": 2025, "report_cycles": 1},
                headers={**buyer, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert reply.status_code == 201, reply.text

    async def feed(http: httpx.AsyncClient) -> list[dict[str, object]]:
        page = await http.get(
            stack.url("integrations") + "/events", params={"limit": 500}, headers=buyer
        )
        assert page.status_code == 200, page.text
        items: list[dict[str, object]] = page.json()["items"]
        return items

    with FaultProxy(stack.ports["billing"]) as billing_link:
        stack.via = {"billing": billing_link.url}  # integrations reads billing's outbox here
        try:
            stack.start(["billing"])
            await asyncio.to_thread(stack.wait_healthy, ["billing"], 120)
            async with httpx.AsyncClient(timeout=30) as http:
                await purchases(http, BEFORE)
                # The first pull of billing gets its reply held; kill -9 the puller then.
                billing_link.plan("/internal/events", "hold_reply")
                stack.start(["integrations"])
                await asyncio.to_thread(billing_link.arrived, "/internal/events", 120)
                stack.kill("integrations")
                killed_at = time.monotonic()
                billing_link.release()

                stack.start(["integrations"])
                await asyncio.to_thread(stack.wait_healthy, ["integrations"], 120)
                assert await feed(http) == [], "nothing stored by the killed pull"
                await purchases(http, AFTER)
                deadline = killed_at + LEASE.total_seconds() + 30
                while len(events := await feed(http)) < BEFORE + AFTER:
                    assert time.monotonic() < deadline, f"{len(events)} events taken in"
                    await asyncio.sleep(0.2)
                # The lapsed lease was the only wait: nothing came in before it ran out.
                assert time.monotonic() - killed_at >= LEASE.total_seconds() - 1
                await asyncio.sleep(0.5)  # time for a repeat to show, if there were one
                events = await feed(http)
        finally:
            stack.stop()
    assert [e["sequence"] for e in events] == list(range(1, BEFORE + AFTER + 1))
    assert len({e["id"] for e in events}) == len(events)
