"""Cycles: the milestones (dates and status) of 10,000 cycles computed in process
(target <= 0.5 s), and `GET /cycles/{id}` through the gateway for an advisor, the factory
and a buyer (whose read also asks reports for its TPA).

The p50 target (<= 10 ms) is checked with one connection: the latency of a read. With
more connections a closed loop on a 2-core box measures queueing (p50 ~ connections /
throughput across gateway, cycles, reports and PostgreSQL), shown as context."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.harness import Bench
from services.cycles.domain import VisitFact, milestone_states
from services.cycles.domain.schedule import plan_cycle
from services.cycles.rules import country_rules

CYCLES = 10_000
REPEATS = 5
SECONDS = 3.0


def milestones_for(count: int) -> float:
    """Seconds to compute the milestones (dates and status) of `count` cycles."""
    rules = country_rules("BD", training_participant_days=20)
    first = date(2020, 1, 1)
    today = date(2026, 6, 1)
    visits = [VisitFact("vis_1", "advisory", "completed", date(2020, 1, 20))]
    started = time.perf_counter()
    for n in range(count):
        start = first + timedelta(days=n % 2000)
        plan = plan_cycle(start=start, number=1 + n % 5, rules=rules)
        milestone_states(plan, visits=visits, released=(), today=today)
    return time.perf_counter() - started


async def _post(bench: Bench, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    reply = await bench.http.post(f"{bench.url()}{path}", json=body, headers=headers)
    if reply.status_code not in (200, 201):
        raise RuntimeError(f"POST {path}: {reply.status_code} {reply.text}")
    return reply.json()


async def _cycle_to_read(bench: Bench) -> tuple[str, str]:
    """An enrolled factory with a cycle in its assessment window, visits, a planned
    assessment, and a buyer with an approved TPA."""
    advisor = bench.auth("advisor", "bw")
    factory = await _post(
        bench,
        "/v1/eligibility/factories",
        {
            "name": f"Bench Garments {uuid.uuid4().hex[:6]}",
            "country": "BD",
            "region": "Gazipur",
            "products": ["garments"],
            "worker_count": 900,
        },
        advisor,
    )
    factory_id = factory["id"]
    await _post(
        bench, f"/v1/eligibility/factories/{factory_id}/enrolment", {"status": "enrolled"}, advisor
    )
    start = datetime.now(UTC).date() - timedelta(days=95)
    cycle = await _post(
        bench,
        f"/v1/cycles/factories/{factory_id}/cycles",
        {"start_date": start.isoformat()},
        advisor,
    )
    for offset, type in ((10, "advisory"), (40, "advisory"), (97, "assessment")):
        body: dict[str, Any] = {"type": type, "date": (start + timedelta(days=offset)).isoformat()}
        if type == "assessment":
            body["assessors"] = ["A", "B"]
        await _post(bench, f"/v1/cycles/cycles/{cycle['id']}/visits", body, advisor)
    request = await _post(
        bench,
        "/v1/reports/access-requests",
        {"factory_id": factory_id},
        bench.auth("partner", "brand-bench"),
    )
    await _post(
        bench,
        f"/v1/reports/access-requests/{request['id']}/approve",
        {},
        bench.auth("factory", factory_id),
    )
    return factory_id, cycle["id"]


async def run(bench: Bench) -> None:
    bench.section(f"milestones of {CYCLES:,} cycles in process, median of {REPEATS}")
    runs = [milestones_for(CYCLES) for _ in range(REPEATS)]
    seconds = statistics.median(runs)
    bench.record(
        f"milestones for {CYCLES:,} cycles", seconds, "s", target="<= 0.5 s", met=seconds <= 0.5
    )

    factory_id, cycle_id = await _cycle_to_read(bench)
    url = f"{bench.url()}/v1/cycles/cycles/{cycle_id}"
    callers = {
        "advisor": bench.auth("advisor", "bw"),
        "factory": bench.auth("factory", factory_id),
        "partner (TPA)": bench.auth("partner", "brand-bench"),
    }
    for concurrency in (1, 4, 16):
        bench.section(f"GET /cycles/{{id}} through the gateway, {concurrency} connection(s)")
        for name, headers in callers.items():
            result = await bench.load(
                f"{name}, {concurrency} conn.",
                url,
                headers=headers,
                concurrency=concurrency,
                duration_s=SECONDS,
            )
            if result.errors:
                raise RuntimeError(f"{result.errors} errors reading the cycle as {name}")
            target = concurrency == 1
            bench.record(
                f"GET /cycles/{{id}} p50, {name}, {concurrency} conn.",
                result.p50_ms,
                "ms",
                target="<= 10 ms" if target else "",
                met=result.p50_ms <= 10.0 if target else None,
            )
            bench.record(
                f"GET /cycles/{{id}} throughput, {name}, {concurrency} conn.", result.rps, "req/s"
            )
