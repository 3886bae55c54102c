"""The gateway's cost: the same authenticated GET straight to a service and through the
gateway, rounds interleaved so that machine noise hits both alike; a bare uvicorn app
gives the ceiling. Targets: +1 ms at p50, +3 ms at p99, >= 70 % of direct throughput."""

from __future__ import annotations

import statistics

from bench.harness import Bench
from bench.load import LoadResult

CONCURRENCY = 16
ROUNDS = 3
SECONDS = 3.0
# The first of these that answers 200 is measured (an authenticated read of rule data).
CANDIDATES = [
    ("billing", "/price-books/2024"),
    ("eligibility", "/programmes/BD"),
    ("billing", "/healthz"),
]


async def _choose(bench: Bench, headers: dict[str, str]) -> tuple[str, str]:
    for service, path in CANDIDATES:
        reply = await bench.http.get(bench.url(service) + path, headers=headers)
        if reply.status_code == 200:
            return service, path
    raise RuntimeError("no endpoint to measure answered 200")


async def run(bench: Bench) -> None:
    headers = bench.auth("partner", "brand-bench")
    service, path = await _choose(bench, headers)
    bench.section(
        f"GET {path} on {service}, {CONCURRENCY} connections, {ROUNDS} x {SECONDS:.0f} s each"
    )

    hello, hello_url = bench.start_hello()
    try:
        await bench.wait_http(hello_url)
        ceiling = await bench.load(
            "bare uvicorn hello-world (ceiling)",
            hello_url + "/",
            concurrency=CONCURRENCY,
            duration_s=SECONDS,
        )
    finally:
        hello.terminate()
        hello.wait()

    # Latency is measured on one connection (what one call pays for the extra hop);
    # throughput at 16 connections (saturation, where latency is only queueing).
    rounds: dict[tuple[str, int], list[LoadResult]] = {}
    for concurrency in (1, CONCURRENCY):
        for round_ in range(1, ROUNDS + 1):
            for label, url in (
                ("direct", bench.url(service) + path),
                ("gateway", f"{bench.url()}/v1/{service}{path}"),
            ):
                result = await bench.load(
                    f"{label}, {concurrency} conn (round {round_})",
                    url,
                    headers=headers,
                    concurrency=concurrency,
                    duration_s=SECONDS,
                )
                rounds.setdefault((label, concurrency), []).append(result)

    def median(label: str, concurrency: int, metric: str) -> float:
        return float(statistics.median(getattr(r, metric) for r in rounds[(label, concurrency)]))

    bench.record("ceiling: bare uvicorn hello-world", ceiling.rps, "req/s")
    for label in ("direct", "gateway"):
        bench.record(f"{label}: p50 / 1 connection", median(label, 1, "p50_ms"), "ms")
        bench.record(f"{label}: p99 / 1 connection", median(label, 1, "p99_ms"), "ms")
        bench.record(
            f"{label}: throughput / {CONCURRENCY} connections",
            median(label, CONCURRENCY, "rps"),
            "req/s",
        )
    added_p50 = median("gateway", 1, "p50_ms") - median("direct", 1, "p50_ms")
    added_p99 = median("gateway", 1, "p99_ms") - median("direct", 1, "p99_ms")
    bench.record(
        "gateway added latency at p50", added_p50, "ms", target="<= 1 ms", met=added_p50 <= 1.0
    )
    bench.record(
        "gateway added latency at p99", added_p99, "ms", target="<= 3 ms", met=added_p99 <= 3.0
    )
    direct_rps = median("direct", CONCURRENCY, "rps")
    ratio = 100 * median("gateway", CONCURRENCY, "rps") / direct_rps if direct_rps else 0.0
    bench.record("gateway throughput / direct", ratio, "%", target=">= 70 %", met=ratio >= 70)
    loaded_added = median("gateway", CONCURRENCY, "p50_ms") - median(
        "direct", CONCURRENCY, "p50_ms"
    )
    bench.record(f"(for reference) added p50 at {CONCURRENCY} connections", loaded_added, "ms")
