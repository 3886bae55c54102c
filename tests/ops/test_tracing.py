"""One trace id spans an unlock: the gateway's span, reports' and billing's (real
processes, `traceparent` over real HTTP, spans exported over OTLP to the test's collector)."""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

import httpx
import pytest

from tests.e2e.test_unlock_faults import Faulty, prepare
from tests.ops.world import Ops, Span

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SERVER, CLIENT = 2, 3  # OTLP's SpanKind numbers


def _wait_for(ops: Ops, found: Any, timeout_s: float = 10.0) -> list[Span]:
    deadline = time.monotonic() + timeout_s
    while True:
        spans = ops.collector.snapshot()
        if found(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.1)


def test_one_trace_spans_an_unlocks_gateway_reports_and_billing_spans(ops: Ops) -> None:
    org = f"buyer-{uuid.uuid4().hex[:8]}"
    no_proxy = cast(Any, None)  # `prepare` uses the stack and the tokens only
    factory_id = prepare(Faulty(ops.stack, no_proxy, no_proxy, ops.token), org)
    headers = {
        "Authorization": f"Bearer {ops.token('participant', org)}",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    reply = httpx.post(
        ops.stack.url("gateway") + "/v1/reports/unlocks",
        json={"factory_id": factory_id, "cycle": 1},
        headers=headers,
        timeout=30.0,
    )
    assert reply.status_code == 201, reply.text

    def gateway_span(spans: list[Span]) -> Span | None:
        return next(
            (
                s
                for s in spans
                if s.service == "gateway" and s.kind == SERVER and s.name.endswith("/unlocks")
            ),
            None,
        )

    def complete(spans: list[Span]) -> bool:
        root = gateway_span(spans)
        services = {s.service for s in spans if root and s.trace_id == root.trace_id}
        return {"gateway", "reports", "billing"} <= services

    spans = _wait_for(ops, complete)
    root = gateway_span(spans)
    assert root is not None, sorted({(s.service, s.name) for s in spans})
    assert root.name == "POST /v1/reports/unlocks"  # the route template, never an id
    trace = [s for s in spans if s.trace_id == root.trace_id]
    by_service = {s.service for s in trace}
    assert {"gateway", "reports", "billing"} <= by_service, sorted(
        (s.service, s.name) for s in trace
    )
    ids = {s.span_id for s in trace}
    # Each service's server span is a child of its caller's client span: one tree.
    reports_server = [s for s in trace if s.service == "reports" and s.kind == SERVER]
    billing_server = [s for s in trace if s.service == "billing" and s.kind == SERVER]
    assert reports_server and billing_server
    assert all(s.parent_id in ids for s in reports_server + billing_server)
    assert any(s.service == "reports" and s.kind == CLIENT for s in trace)  # reports → billing
    assert root.parent_id == ""  # the client sent no traceparent: the gateway began it
