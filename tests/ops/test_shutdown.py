"""SIGTERM during a burst of requests through the gateway: the service fails readiness at
once, finishes what it has in flight, then exits; every client gets its 201 or the
gateway's 503 with Retry-After (never a 500/502/504), and every 201 is there afterwards."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI

from shared.background import start_repeating, stop_repeating
from shared.settings import Settings
from tests.ops.world import Ops

VICTIM = "eligibility"


@pytest.mark.e2e
@pytest.mark.postgres
def test_sigterm_during_a_burst_loses_nothing_and_answers_no_5xx_but_503(ops: Ops) -> None:
    stack = ops.stack
    headers = {"Authorization": f"Bearer {ops.token('advisor', 'bw')}"}
    created: list[str] = []
    statuses: Counter[int] = Counter()
    not_ready_seen: list[float] = []
    signalled: list[float] = []
    warmed_up = asyncio.Event()

    async def one(client: httpx.AsyncClient, n: int) -> None:
        reply = await client.post(
            "/v1/eligibility/factories",
            json={"name": f"Drain Garments {uuid.uuid4().hex[:8]} {n}", "address": "1 Road",
                  "country": "BD", "region": "Gazipur", "products": ["garments"],
                  "worker_count": 100},
        )  # fmt: skip
        statuses[reply.status_code] += 1
        if reply.status_code == 201:
            created.append(reply.json()["id"])
            if len(created) >= 40:
                warmed_up.set()
        else:  # the gateway's (service gone) or the service's own (database busy)
            assert reply.status_code == 503, reply.text
            assert reply.headers.get("retry-after"), reply.headers

    async def worker(client: httpx.AsyncClient, worker_no: int, stop_at: list[float]) -> None:
        n = 0
        while time.monotonic() < (stop_at[0] if stop_at else float("inf")) and n < 200:
            await one(client, worker_no * 1000 + n)
            n += 1

    async def watch_readiness() -> None:
        async with httpx.AsyncClient(base_url=stack.url(VICTIM), timeout=2.0) as direct:
            while stack.processes[VICTIM].poll() is None:
                try:
                    if (await direct.get("/readyz")).status_code == 503:
                        not_ready_seen.append(time.monotonic())
                        return
                except httpx.HTTPError:
                    return
                await asyncio.sleep(0.02)

    async def burst() -> None:
        stop_at: list[float] = []
        async with httpx.AsyncClient(
            base_url=stack.url("gateway"), headers=headers, timeout=30.0
        ) as client:
            workers = [asyncio.create_task(worker(client, w, stop_at)) for w in range(8)]
            await warmed_up.wait()
            stack.processes[VICTIM].send_signal(signal.SIGTERM)
            signalled.append(time.monotonic())
            await watch_readiness()
            await asyncio.to_thread(stack.processes[VICTIM].wait)
            stop_at.append(time.monotonic() + 1.0)  # and a while with the service gone
            await asyncio.gather(*workers)

    try:
        asyncio.run(burst())
    finally:  # the next tests of the package need the victim back, whatever happened here
        victim = stack.processes[VICTIM]
        if victim.poll() is None:  # the burst failed before it got to the signal
            victim.send_signal(signal.SIGTERM)
        exited = victim.wait(timeout=30)
        stack.start([VICTIM])
        stack.wait_healthy([VICTIM], timeout_s=60)

    assert set(statuses) <= {201, 503}, statuses
    assert statuses[201] >= 40 and statuses[503] >= 1, statuses
    assert not_ready_seen and not_ready_seen[0] - signalled[0] < 1.0  # readiness failed first
    assert exited in (0, -signal.SIGTERM), exited
    with httpx.Client(base_url=stack.url("gateway"), headers=headers, timeout=30.0) as client:
        for factory_id in created:  # every 201 was committed: no lost work
            assert client.get(f"/v1/eligibility/factories/{factory_id}").status_code == 200


async def test_a_background_round_in_progress_finishes_before_the_loop_stops() -> None:
    app = FastAPI()
    app.state.settings = Settings(BW_SHUTDOWN_GRACE_SECONDS=5)
    started, finished = asyncio.Event(), asyncio.Event()

    async def step() -> int:
        started.set()
        await asyncio.sleep(0.3)  # a round with its work half done
        finished.set()
        return 0

    start_repeating(app, "slow", step, interval=10)
    await started.wait()
    await stop_repeating(app, "slow")
    assert finished.is_set()  # not cancelled mid-round
