"""Billing: credit spends under a burst, and the partner quote through the gateway.

1. 200 participants with credits; 200 spends (one each, the reports service's call) sent at
   the same instant straight to the billing service on 200 open connections, several
   rounds. Target: p99 <= 50 ms service-side, zero errors. The same spends one at a time
   give the cost of one: in one uvicorn process the 200 share one event loop (and here two
   cores with PostgreSQL), so the last of a burst answers after about 200 times that cost.
2. POST /quotes/partner straight to billing and through the gateway, rounds interleaved.
   Target: the gateway's own (+1 ms at p50, +3 ms at p99 on one connection).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid

from bench.harness import Bench
from bench.load import Connection, LoadResult, percentile

BUYERS = 200
BURST_ROUNDS = 5
QUOTE_ROUNDS = 3
QUOTE_SECONDS = 3.0
QUOTE_CONNECTIONS = 16
QUOTE = {"year": 2025, "apparel_revenue_usd": "2500000000", "factory_count": 40}


async def _give_credits(bench: Bench, orgs: list[str], credits: int) -> None:
    headers = bench.auth("advisor", "bw")
    url = bench.url("billing") + "/credit-adjustments"
    gate = asyncio.Semaphore(16)

    async def give(org: str) -> None:
        async with gate:
            reply = await bench.http.post(
                url,
                json={"org": org, "delta": credits, "reason": "benchmark"},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            reply.raise_for_status()

    await asyncio.gather(*(give(org) for org in orgs))


def _charge(org: str, reference: str) -> bytes:
    """What the unlock saga sends billing for a participant's unlock: one credit."""
    body = {"org": org, "reference": reference, "kind": "credit", "factory_id": "f"}
    return json.dumps(body | {"reason": "bench"}).encode()


async def _burst(bench: Bench, orgs: list[str]) -> tuple[list[float], int, float]:
    """One spend per org, all released at once: latencies (ms), errors, wall time (ms)."""
    base = bench.url("billing")
    token = bench.token("service", "betterwork")
    connections = await asyncio.gather(*(Connection.open(base) for _ in orgs))
    start = asyncio.Event()

    async def spend(connection: Connection, org: str) -> tuple[float, int]:
        reference = f"unl_{uuid.uuid4().hex}"
        body = _charge(org, reference)
        headers = {"Authorization": f"Bearer {token}"}
        await start.wait()
        sent = time.perf_counter()
        status = await connection.post("/internal/charges", headers, body)
        return (time.perf_counter() - sent) * 1000, status

    try:
        tasks = [
            asyncio.create_task(spend(connection, org))
            for connection, org in zip(connections, orgs, strict=True)
        ]
        await asyncio.sleep(0.2)  # every task is parked on the event
        began = time.perf_counter()
        start.set()
        results = await asyncio.gather(*tasks)
        wall_ms = (time.perf_counter() - began) * 1000
    finally:
        for connection in connections:
            connection.close()
    return [ms for ms, _ in results], sum(status != 201 for _, status in results), wall_ms


async def _one_by_one(bench: Bench, orgs: list[str]) -> list[float]:
    """The same spends on one connection, each after the last: what a spend costs alone."""
    base = bench.url("billing")
    token = bench.token("service", "betterwork")
    connection = await Connection.open(base)
    latencies = []
    try:
        for org in orgs:
            reference = f"unl_{uuid.uuid4().hex}"
            body = _charge(org, reference)
            headers = {"Authorization": f"Bearer {token}"}
            sent = time.perf_counter()
            status = await connection.post("/internal/charges", headers, body)
            latencies.append((time.perf_counter() - sent) * 1000)
            if status != 201:
                raise RuntimeError(f"spend answered {status}")
    finally:
        connection.close()
    return latencies


async def _spends(bench: Bench) -> None:
    bench.section(f"{BUYERS} concurrent credit spends, distinct balances, {BURST_ROUNDS} rounds")
    orgs = [f"bench-buyer-{n}" for n in range(BUYERS)]
    await _give_credits(bench, orgs, BURST_ROUNDS + 2)
    await _burst(bench, orgs)  # warm-up: connection pools, caches
    p50s, p99s, walls, errors = [], [], [], 0
    for round_ in range(1, BURST_ROUNDS + 1):
        latencies, failed, wall_ms = await _burst(bench, orgs)
        p50s.append(percentile(latencies, 50))
        p99s.append(percentile(latencies, 99))
        walls.append(wall_ms)
        errors += failed
        print(
            f"  round {round_}: p50 {p50s[-1]:7.2f} ms   p99 {p99s[-1]:7.2f} ms   "
            f"all {BUYERS} done in {wall_ms:7.2f} ms   errors {failed}",
            flush=True,
        )
    p99 = statistics.median(p99s)
    bench.record("spend burst: p50 (median of rounds)", statistics.median(p50s), "ms")
    bench.record(
        f"spend burst: p99 (median of rounds), {BUYERS} at once",
        p99,
        "ms",
        target="<= 50 ms",
        met=p99 <= 50,
    )
    bench.record(f"spend burst: {BUYERS} spends done in", statistics.median(walls), "ms")
    bench.record("spend burst: throughput", BUYERS / statistics.median(walls) * 1000, "spends/s")
    bench.record("spend burst: errors", errors, "", target="0", met=errors == 0)
    alone = await _one_by_one(bench, orgs)
    bench.record("spend one at a time: p50", percentile(alone, 50), "ms")
    bench.record("spend one at a time: p99", percentile(alone, 99), "ms")


async def _quotes(bench: Bench) -> None:
    bench.section(f"POST /quotes/partner, direct and through the gateway, {QUOTE_ROUNDS} rounds")
    headers = {**bench.auth("partner", "brand-bench"), "Content-Type": "application/json"}
    body = json.dumps(QUOTE).encode()
    rounds: dict[tuple[str, int], list[LoadResult]] = {}
    for connections in (1, QUOTE_CONNECTIONS):
        for round_ in range(1, QUOTE_ROUNDS + 1):
            for label, url in (
                ("direct", bench.url("billing") + "/quotes/partner"),
                ("gateway", bench.url() + "/v1/billing/quotes/partner"),
            ):
                result = await bench.load(
                    f"{label}, {connections} conn (round {round_})",
                    url,
                    method="POST",
                    headers=headers,
                    body=body,
                    concurrency=connections,
                    duration_s=QUOTE_SECONDS,
                )
                rounds.setdefault((label, connections), []).append(result)

    def median(label: str, connections: int, metric: str) -> float:
        return statistics.median(float(getattr(r, metric)) for r in rounds[(label, connections)])

    for label in ("direct", "gateway"):
        bench.record(f"quote {label}: p50 / 1 connection", median(label, 1, "p50_ms"), "ms")
        bench.record(f"quote {label}: p99 / 1 connection", median(label, 1, "p99_ms"), "ms")
        bench.record(
            f"quote {label}: throughput / {QUOTE_CONNECTIONS} connections",
            median(label, QUOTE_CONNECTIONS, "rps"),
            "req/s",
        )
    added_p50 = median("gateway", 1, "p50_ms") - median("direct", 1, "p50_ms")
    added_p99 = median("gateway", 1, "p99_ms") - median("direct", 1, "p99_ms")
    bench.record("quote: gateway added p50", added_p50, "ms", target="<= 1 ms", met=added_p50 <= 1)
    bench.record("quote: gateway added p99", added_p99, "ms", target="<= 3 ms", met=added_p99 <= 3)
    errors = sum(r.errors for results in rounds.values() for r in results)
    bench.record("quote: errors", errors, "", target="0", met=errors == 0)


async def run(bench: Bench) -> None:
    bench.record("(context) machine load average, 1 min, at start", os.getloadavg()[0], "")
    await _spends(bench)
    await _quotes(bench)
