"""One replica against two (issue 13): the report read and the unlock, on a stack of one
process per component and then on one of two processes per component (gateways too),
side by side. Both stacks share this machine's two cores, the same PostgreSQL (the same
databases) and Redis for the rate limit, and the same number of database connections in
all (a pool of 34 per service, 17 per replica). The point is that nothing serialises across
replicas: two must not be slower than one.

The main bench stack is stopped meanwhile (its pools would crowd the server's connections)
and started again at the end.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import Bench
from bench.load import percentile
from bench.reports import READ_CONNECTIONS, _burst, _closed_loop, readable_report, unlockers
from shared.stack import Stack
from tests.helpers import REDIS_URL

READ_SECONDS = 5.0
UNLOCK_SECONDS = 5.0
BURST_ROUNDS = 3
POOL = 34  # database connections per service, shared among its replicas


async def _measure(bench: Bench) -> dict[str, float]:
    run = uuid.uuid4().hex[:6]
    gateways = bench.stack.urls("gateway")
    path = await readable_report(bench, f"replica-reader-{run}")
    headers = bench.auth("participant", f"replica-reader-{run}")
    reads = await asyncio.gather(
        *(
            bench.load(
                f"read via gateway {n + 1} of {len(gateways)}",
                f"{url}/v1/reports{path}",
                headers=headers,
                concurrency=READ_CONNECTIONS // len(gateways),
                duration_s=READ_SECONDS,
            )
            for n, url in enumerate(gateways)
        )
    )
    read_latencies = [ms for result in reads for ms in result.latencies_ms]
    buyers = await unlockers(bench, f"replica-unlocker-{run}")
    await _burst(bench, buyers)  # warm-up
    p99s = []
    for _ in range(BURST_ROUNDS):
        latencies, _failed = await _burst(bench, buyers)
        p99s.append(percentile(latencies, 99))
    cpu_before = sum(bench.cpu_seconds().values())
    started = time.perf_counter()
    latencies, failed = await _closed_loop(bench, buyers, UNLOCK_SECONDS)
    spent = time.perf_counter() - started
    cpu = sum(bench.cpu_seconds().values()) - cpu_before
    return {
        "read req/s": sum(result.rps for result in reads),
        "read p50 ms": percentile(read_latencies, 50),
        "read errors": sum(result.errors for result in reads),
        "unlock burst p99 ms": statistics.median(p99s),
        "unlocks/s": len(latencies) / spent,
        # Every process of the stack, so a second replica's own cost (its idle background
        # loops, more processes sharing two cores) shows here.
        "unlock CPU ms, all processes": cpu * 1000 / max(1, len(latencies)),
        "unlock errors": failed,
    }


async def _on_stack(bench: Bench, replicas: int) -> dict[str, float]:
    env = {**bench.stack.env, "BW_DB_POOL_SIZE": str(POOL // replicas), "BW_REDIS_URL": REDIS_URL}
    log_dir = Path(tempfile.mkdtemp(prefix=f"bw-bench-{replicas}x-"))
    stack = Stack.on_free_ports(env, log_dir=log_dir, replicas=replicas)
    try:
        stack.up()
        bench.section(f"{replicas} replica(s) of every component")
        copy = Bench(
            stack,
            bench.settings,
            bench.http,
            scenario=bench.scenario,
            settings_urls=bench.settings_urls,
        )
        return await _measure(copy)
    finally:
        stack.stop()


async def run(bench: Bench) -> None:
    bench.stack.stop()
    try:
        one = await _on_stack(bench, 1)
        two = await _on_stack(bench, 2)
    finally:
        bench.stack.up()
    bench.section("one replica against two, same run")
    for name in one:
        bench.record(f"{name}: 1 replica", one[name], "")
        bench.record(f"{name}: 2 replicas", two[name], "")
    for name in ("read req/s", "unlocks/s"):
        ratio = two[name] / one[name] if one[name] else float("nan")
        # "Not below one replica's", with the noise of a shared 2-core machine: 5 %.
        bench.record(f"{name}: 2 replicas / 1", ratio, "x", target=">= 0.95 x", met=ratio >= 0.95)
    ratio = two["unlock burst p99 ms"] / one["unlock burst p99 ms"]
    bench.record(
        "unlock burst p99: 2 replicas / 1", ratio, "x", target="<= 1.05 x", met=ratio <= 1.05
    )
    errors = sum(one[k] + two[k] for k in ("read errors", "unlock errors"))
    bench.record("replicas: errors", errors, "", target="0", met=errors == 0)
