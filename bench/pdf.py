"""PDF downloads: a released 200-finding assessment report and an invoice, through the gateway.

1. First downloads: several reports, each downloaded once (access decided, the report and
   the factory's name read, the PDF drawn); the slowest and the median.
2. GET /v1/reports/reports/{id}/report.pdf by a participant that unlocked the cycle, on one
   keep-alive connection, rounds of a few seconds: access and the name are decided every
   time, the drawing is the process's (shared/pdf.py keeps the last PDFs by their sheet).
   Target (issue 12): p99 <= 300 ms. Then 4 connections at once, and the invoice PDF.
The CPU the reports process spends per download is printed too: on a shared 2-core machine
it says more than the latency.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

from bench.harness import Bench
from bench.load import LoadResult
from bench.reports import buyer_with_access

ROUNDS = 3
SECONDS = 4.0
FINDINGS = 200
CPU_DOWNLOADS = 20
FIRST_DOWNLOADS = 6
CLUSTERS = [
    "Child Labour",
    "Discrimination",
    "Forced Labour",
    "Freedom of Association",
    "Compensation",
    "Contracts and Human Resources",
    "Occupational Safety and Health",
    "Working Time",
]


def findings() -> list[dict[str, Any]]:
    """Questions and details of a realistic length; a quarter non-compliant with a detail."""
    return [
        {
            "cluster": CLUSTERS[n % len(CLUSTERS)],
            "question": f"Q{n + 1}. Does the employer comply with the legal requirements on "
            f"item {n + 1} of this cluster, including record keeping and notices to workers?",
            "publicly_reported": n % 3 == 0,
            "compliant": n % 4 != 0,
            "detail": None
            if n % 4
            else "Observed on the production floor and confirmed in interviews with workers "
            "and management; records for the last three months were incomplete.",
        }
        for n in range(FINDINGS)
    ]


async def _report(bench: Bench, reader: str | None) -> str:
    """A BD factory with a Vietnamese-and-Bengali name, its released 200-finding assessment,
    unlocked by `reader` (if any); returns the report id."""
    factory = await bench.call(
        "POST",
        "/v1/eligibility/factories",
        "advisor",
        "bw",
        {
            "name": f"Công ty May Việt Tiến গাজীপুর {uuid.uuid4().hex[:6]}",
            "address": "1 Road",
            "country": "BD",
            "region": "Gazipur",
            "products": ["garments"],
            "worker_count": 900,
        },
    )
    factory_id = factory["id"]
    await bench.call(
        "POST",
        f"/v1/eligibility/factories/{factory_id}/enrolment",
        "advisor",
        "bw",
        {"status": "enrolled"},
    )
    await bench.call(
        "POST", f"/v1/reports/factories/{factory_id}/cycles", "advisor", "bw", {"cycle": 1}
    )
    draft = await bench.call(
        "POST",
        f"/v1/reports/factories/{factory_id}/cycles/1/reports",
        "advisor",
        "bw",
        {
            "kind": "assessment",
            "title": "Assessment, cycle 1",
            "findings": findings(),
            "body": "The factory was assessed over two days by two Enterprise Advisors. " * 6,
        },
    )
    await bench.call("POST", f"/v1/reports/reports/{draft['id']}/release", "advisor", "bw")
    if reader is None:
        return str(draft["id"])
    await buyer_with_access(bench, factory_id, reader, credits=1)
    await bench.call(
        "POST",
        "/v1/reports/unlocks",
        "participant",
        reader,
        {"factory_id": factory_id, "cycle": 1},
    )
    return str(draft["id"])


async def _rounds(
    bench: Bench, label: str, url: str, headers: dict[str, str], connections: int
) -> list[LoadResult]:
    return [
        await bench.load(
            f"{label}, {connections} conn (round {n})",
            url,
            headers=headers,
            concurrency=connections,
            duration_s=SECONDS,
        )
        for n in range(1, ROUNDS + 1)
    ]


def _pooled(results: list[LoadResult], pct: int) -> float:
    latencies = sorted(ms for result in results for ms in result.latencies_ms)
    return statistics.quantiles(latencies, n=100, method="inclusive")[pct - 1]


async def _first_downloads(bench: Bench) -> None:
    reports = [await _report(bench, None) for _ in range(FIRST_DOWNLOADS)]
    headers = bench.auth("advisor", "bw")
    bench.section(f"first download of {FIRST_DOWNLOADS} reports of {FINDINGS} findings")
    latencies = []
    cpu_before = bench.cpu_seconds()
    for report_id in reports:
        url = f"{bench.url()}/v1/reports/reports/{report_id}/report.pdf"
        started = time.perf_counter()
        reply = await bench.http.get(url, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        if reply.status_code != 200:
            raise RuntimeError(f"report.pdf: {reply.status_code} {reply.text[:300]}")
    cpu_ms = (bench.cpu_seconds()["reports"] - cpu_before["reports"]) * 1000
    print("  " + "  ".join(f"{ms:.0f}" for ms in latencies) + " ms", flush=True)
    bench.record("report.pdf first download: CPU, reports", cpu_ms / FIRST_DOWNLOADS, "ms")
    bench.record(
        f"report.pdf first download: median of {FIRST_DOWNLOADS}",
        statistics.median(latencies),
        "ms",
    )
    bench.record(
        f"report.pdf first download: slowest of {FIRST_DOWNLOADS}",
        max(latencies),
        "ms",
        target="<= 300 ms",
        met=max(latencies) <= 300,
    )


async def run(bench: Bench) -> None:
    await _first_downloads(bench)
    reader = "bench-pdf-reader"
    report_id = await _report(bench, reader)
    headers = bench.auth("participant", reader)
    url = f"{bench.url()}/v1/reports/reports/{report_id}/report.pdf"
    probe = await bench.http.get(url, headers=headers)
    if probe.status_code != 200 or not probe.content.startswith(b"%PDF-"):
        raise RuntimeError(f"report.pdf: {probe.status_code} {probe.text[:300]}")
    bench.section(
        f"GET /v1/reports/reports/{{id}}/report.pdf, {FINDINGS} findings "
        f"({len(probe.content) // 1024} KiB), {ROUNDS} x {SECONDS:.0f} s"
    )
    single = await _rounds(bench, "report.pdf", url, headers, 1)
    p99 = _pooled(single, 99)
    bench.record(f"report.pdf ({FINDINGS} findings): p50 / 1 connection", _pooled(single, 50), "ms")
    bench.record(
        f"report.pdf ({FINDINGS} findings): p99 / 1 connection",
        p99,
        "ms",
        target="<= 300 ms",
        met=p99 <= 300,
    )
    # The CPU a download costs, whatever else the machine runs (the latency depends on that).
    cpu_before = bench.cpu_seconds()
    for _ in range(CPU_DOWNLOADS):
        await bench.http.get(url, headers=headers)
    cpu_after = bench.cpu_seconds()
    for name in ("reports", "gateway", "eligibility"):
        used_ms = (cpu_after[name] - cpu_before[name]) * 1000
        bench.record(f"report.pdf: CPU per download, {name}", used_ms / CPU_DOWNLOADS, "ms")
    busy = await _rounds(bench, "report.pdf", url, headers, 4)
    bench.record(
        "report.pdf: throughput / 4 connections",
        statistics.median(result.rps for result in busy),
        "PDFs/s",
    )
    bench.record("report.pdf: p99 / 4 connections", _pooled(busy, 99), "ms")

    buyer = "bench-pdf-buyer"
    invoice = await bench.call(
        "POST",
        "/v1/billing/invoices",
        "participant",
        buyer,
        {"kind": "credits", "year": 2025, "report_cycles": 12},
    )
    invoice_url = f"{bench.url()}/v1/billing/invoices/{invoice['id']}/invoice.pdf"
    bench.section("GET /v1/billing/invoices/{id}/invoice.pdf")
    invoices = await _rounds(bench, "invoice.pdf", invoice_url, bench.auth("participant", buyer), 1)
    bench.record("invoice.pdf: p50 / 1 connection", _pooled(invoices, 50), "ms")
    bench.record("invoice.pdf: p99 / 1 connection", _pooled(invoices, 99), "ms")
    errors = sum(result.errors for result in single + busy + invoices)
    bench.record("pdf: errors", errors, "", target="0", met=errors == 0)
