"""Events and webhooks (issue 10), through the gateway of the real stack on PostgreSQL.

Every change here is a participant's credits invoice (`POST /v1/billing/invoices`): one
`invoice.issued` event for its organisation, committed when the reply is sent.

1. Freshness: changes one at a time while a client pages the feed with its cursor and a
   local receiver takes the webhooks. Each latency runs from the change's reply to the
   event first seen in the feed / received by the webhook. Targets: feed p99 <= 1 s,
   webhook p99 <= 2 s.
2. Throughput: 20 endpoints (the per-organisation cap) of one organisation on the local
   receiver and `THROUGHPUT_CHANGES` changes sent at once: deliveries per second from the
   first delivery to the last. Target >= 200/s.
3. A receiver that is down (connections refused) for `BENCH_EVENTS_DOWN_SECONDS` (60 s by
   default; the issue's figure is 600) while changes go on, one a second: the time from
   its return until it has every event. Target <= 60 s. Twice: (a) changes go on after
   its return, one a second (a new event's success releases the backlog); (b) the changes
   stop `QUIET_SECONDS` before its return and nothing happens after: every retry left is
   then minutes away (the last change's 5 s retry has failed too), so only the worker's
   probe of a failing endpoint (every 30 s) can notice it is back. Expect 0-30 s.
4. A page of 500 events of the feed through the gateway. Target p50 <= 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bench.harness import Bench
from bench.load import percentile
from shared.stack import free_port

FRESHNESS_CHANGES = 200
THROUGHPUT_CHANGES = 500
ENDPOINTS = 20
DOWN_SECONDS = float(os.environ.get("BENCH_EVENTS_DOWN_SECONDS", "60"))
PAGE_ROUNDS = 60
# Longer than the schedule's first retry (5 s, +10% jitter) and a failed attempt after it.
QUIET_SECONDS = 10.0


@dataclass
class Receiver:
    """A local webhook receiver: when each event (by subject id) arrived, per path."""

    port: int = field(default_factory=free_port)
    arrived: dict[str, float] = field(default_factory=dict)
    count: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        now = time.perf_counter()
        self.count += 1
        self.first_at = self.first_at or now
        self.last_at = now
        self.arrived.setdefault(body["subject"]["id"], now)
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/{name}", self._handle)
        self.runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


async def _change(bench: Bench, org: str) -> tuple[str, float]:
    """One committed change: (the invoice id the event is about, when its reply came)."""
    reply = await bench.http.post(
        bench.url() + "/v1/billing/invoices",
        json={"kind": "credits", "year": 2025, "report_cycles": 1},
        headers={**bench.auth("participant", org), "Idempotency-Key": str(uuid.uuid4())},
    )
    reply.raise_for_status()
    return str(reply.json()["id"]), time.perf_counter()


async def _register(bench: Bench, org: str, url: str) -> None:
    reply = await bench.http.post(
        bench.url() + "/v1/integrations/webhook-endpoints",
        json={"url": url, "event_types": ["invoice.issued"]},
        headers=bench.auth("participant", org),
    )
    reply.raise_for_status()


async def _follow_feed(
    bench: Bench, org: str, seen: dict[str, float], stop: Callable[[], bool]
) -> None:
    """Page the organisation's feed as an integrator does, noting when each event shows."""
    headers = bench.auth("participant", org)
    after: str | None = None
    while not stop():
        params = {"limit": "500", **({"after": after} if after else {})}
        page = (
            await bench.http.get(
                bench.url() + "/v1/integrations/events", params=params, headers=headers
            )
        ).json()
        now = time.perf_counter()
        for event in page["items"]:
            seen.setdefault(event["subject"]["id"], now)
        after = page["next_cursor"] or after
        if not page["items"]:
            await asyncio.sleep(0.01)


def _latencies(sent: dict[str, float], seen: dict[str, float]) -> list[float]:
    return [(seen[key] - at) * 1000 for key, at in sent.items() if key in seen]


async def _wait_for(done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _freshness(bench: Bench, receiver: Receiver) -> None:
    bench.section(f"freshness: {FRESHNESS_CHANGES} changes, one at a time")
    org = f"fresh-{uuid.uuid4().hex[:8]}"
    await _register(bench, org, receiver.url + "/fresh")
    seen: dict[str, float] = {}
    finished = False
    follower = asyncio.create_task(_follow_feed(bench, org, seen, lambda: finished))
    sent: dict[str, float] = {}
    for _ in range(FRESHNESS_CHANGES):
        invoice, at = await _change(bench, org)
        sent[invoice] = at
        await asyncio.sleep(0.02)
    await _wait_for(
        lambda: sent.keys() <= seen.keys() and sent.keys() <= receiver.arrived.keys(), 30
    )
    finished = True
    await follower
    feed = _latencies(sent, seen)
    hooks = _latencies(sent, receiver.arrived)
    bench.record("events seen in the feed", len(feed), "of " + str(len(sent)))
    bench.record("change -> feed, p50", statistics.median(feed), "ms")
    p99 = percentile(feed, 99)
    bench.record("change -> feed, p99", p99, "ms", target="<= 1000 ms", met=p99 <= 1000)
    bench.record("webhooks received", len(hooks), "of " + str(len(sent)))
    bench.record("change -> webhook, p50", statistics.median(hooks), "ms")
    p99 = percentile(hooks, 99)
    bench.record("change -> webhook, p99", p99, "ms", target="<= 2000 ms", met=p99 <= 2000)


async def _throughput(bench: Bench, receiver: Receiver) -> str:
    bench.section(f"throughput: {THROUGHPUT_CHANGES} changes x {ENDPOINTS} endpoints")
    org = f"many-{uuid.uuid4().hex[:8]}"
    for n in range(ENDPOINTS):
        await _register(bench, org, f"{receiver.url}/many-{n}")
    receiver.count, receiver.first_at = 0, 0.0
    cpu = bench.cpu_seconds()
    gate = asyncio.Semaphore(16)

    async def change() -> None:
        async with gate:
            await _change(bench, org)

    await asyncio.gather(*(change() for _ in range(THROUGHPUT_CHANGES)))
    expected = THROUGHPUT_CHANGES * ENDPOINTS
    complete = await _wait_for(lambda: receiver.count >= expected, 120)
    used = bench.cpu_seconds()
    rate = receiver.count / max(receiver.last_at - receiver.first_at, 1e-9)
    bench.record("deliveries received", receiver.count, "of " + str(expected))
    bench.record(
        "deliveries per second", rate, "/s", target=">= 200/s", met=complete and rate >= 200
    )
    per = (used["integrations"] - cpu["integrations"]) / max(receiver.count, 1) * 1000
    bench.record("integrations CPU per delivery", per, "ms")
    return org


async def _down_and_back(bench: Bench, receiver: Receiver, *, traffic_after: bool) -> None:
    after = (
        "changes go on after its return"
        if traffic_after
        else f"then nothing for {QUIET_SECONDS:g} s before its return, nor after"
    )
    bench.section(f"a receiver down {DOWN_SECONDS:g} s while changes go on (one a second); {after}")
    org = f"down-{uuid.uuid4().hex[:8]}"
    await _register(bench, org, receiver.url + "/down")
    await receiver.stop()
    sent: dict[str, float] = {}
    began = time.perf_counter()
    while time.perf_counter() - began < DOWN_SECONDS:
        invoice, at = await _change(bench, org)
        sent[invoice] = at
        await asyncio.sleep(1.0)
    if not traffic_after:
        await asyncio.sleep(QUIET_SECONDS)  # no retry is due soon when it comes back
    await receiver.start()
    back = time.perf_counter()
    stop = False

    async def keep_changing() -> None:  # traffic goes on after the receiver's return
        while not stop:
            invoice, at = await _change(bench, org)
            sent.setdefault(invoice, at)
            await asyncio.sleep(1.0)

    changer = asyncio.create_task(keep_changing()) if traffic_after else None
    missed = dict(sent)
    complete = await _wait_for(lambda: missed.keys() <= receiver.arrived.keys(), 300)
    caught_up = time.perf_counter() - back
    stop = True
    if changer is not None:
        await changer
    bench.record("events sent while it was down", len(missed), "")
    bench.record(
        "return -> every missed event received",
        caught_up,
        "s",
        target="<= 60 s",
        met=complete and caught_up <= 60,
    )


async def _page(bench: Bench, org: str) -> None:
    bench.section("a page of 500 events through the gateway")
    url = bench.url() + "/v1/integrations/events"
    headers = bench.auth("participant", org)
    timings = []
    sizes = set()
    for _ in range(PAGE_ROUNDS):
        started = time.perf_counter()
        reply = await bench.http.get(url, params={"limit": "500"}, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.add(len(reply.json()["items"]))
    bench.record("events per page", max(sizes), "")
    p50 = statistics.median(timings)
    bench.record("page of 500, p50", p50, "ms", target="<= 50 ms", met=p50 <= 50)
    bench.record("page of 500, p99", percentile(timings, 99), "ms")


async def run(bench: Bench) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        await _freshness(bench, receiver)
        org = await _throughput(bench, receiver)
        await _page(bench, org)
        await _down_and_back(bench, receiver, traffic_after=True)
        await _down_and_back(bench, receiver, traffic_after=False)
    finally:
        await receiver.stop()
