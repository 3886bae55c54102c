"""Prometheus metrics: one registry per process, `/metrics` on every service and on the
gateway's own port (never proxied: the gateway routes only operations in a service's
OpenAPI document, and `/metrics` is not in it).

Labels carry route templates (`/v1/reports/{report_id}`), never ids, so the number of
series is bounded by the API's size. The middleware keeps its per-request work to a clock
read, a dict look-up of the labelled children and two updates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "BACKGROUND_FAILURES",
    "BACKGROUND_RUNNING",
    "BACKGROUND_RUNS",
    "LEDGER_CHANGES",
    "UNLOCKS",
    "UPSTREAM_CALLS",
    "WEBHOOK_DELIVERIES",
    "MetricsMiddleware",
    "install_metrics",
    "metrics_router",
    "observe_upstream",
    "outcome_of",
    "status_outcome",
    "track_pool",
]

# Latency buckets for an API whose reads take a few ms and whose slowest calls (a CSV
# upload, an unlock's saga) take up to seconds.
BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Its `_count` is the request count (rate, errors by status): one update per request.
HTTP_DURATION = Histogram(
    "bw_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status (`_count`: requests).",
    ["service", "method", "route", "status"],
    buckets=BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "bw_http_requests_in_flight", "HTTP requests being answered now.", ["service"]
)
UPSTREAM_CALLS = Counter(
    "bw_upstream_calls",
    "Calls to another service, by target and outcome (2xx, 3xx, 4xx, 5xx, unreachable, "
    "timeout, broken).",
    ["caller", "target", "outcome"],
)
UPSTREAM_DURATION = Histogram(
    "bw_upstream_call_duration_seconds",
    "Time until another service's reply headers arrived.",
    ["caller", "target"],
    buckets=BUCKETS,
)
DB_POOL_CHECKED_OUT = Gauge(
    "bw_db_pool_checked_out", "Database connections in use now.", ["service"]
)
DB_POOL_SIZE = Gauge("bw_db_pool_size", "Database connections the pool keeps.", ["service"])
DB_POOL_OVERFLOW = Gauge(
    "bw_db_pool_overflow", "Connections open beyond the pool size (negative: unused).", ["service"]
)
UNLOCKS = Counter(
    "bw_unlocks",
    "Unlock sagas that reached billing, by outcome (unlocked, refused, busy, failed; "
    "recovered: stale pending unlocks settled by the sweep).",
    ["outcome"],
)
LEDGER_CHANGES = Counter(
    "bw_ledger_changes",
    "Charges taken and given back by billing, by change (charge, release) and kind "
    "(credit, footprint). Counted when written; a transaction that then fails to commit "
    "is counted too (rare: the ledger's own check, GET /internal/ledger/check, is exact).",
    ["change", "kind"],
)
BACKGROUND_RUNS = Counter(
    "bw_background_runs", "Rounds of a background job (a look for work).", ["job"]
)
BACKGROUND_FAILURES = Counter(
    "bw_background_failures", "Rounds of a background job that raised.", ["job"]
)
BACKGROUND_RUNNING = Gauge(
    "bw_background_running", "Background jobs in a round now (1) or waiting (0).", ["job"]
)
WEBHOOK_DELIVERIES = Counter(
    "bw_webhook_deliveries",
    "Webhook delivery attempts, by outcome (delivered; retrying: failed, tried again "
    "later; failed: failed for the last time).",
    ["outcome"],
)

UNMATCHED = "<unmatched>"
_Key = tuple[str, str, str]


def route_template(scope: Scope) -> str:
    """The route's path template (set by Starlette's router, or by the gateway's proxy as
    `bw.route`), never the raw path: ids stay out of labels."""
    explicit = scope.get("bw.route")
    if explicit is not None:
        return str(explicit)
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path is not None else UNMATCHED


class MetricsMiddleware:
    """Times every HTTP request (pure ASGI: streaming replies pass untouched). Per request:
    two clock reads and one histogram update (each prometheus_client update takes a lock,
    so the in-flight count is a plain integer read at scrape time)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        self.in_flight = 0
        HTTP_IN_FLIGHT.labels(service).set_function(lambda: self.in_flight)
        self._children: dict[_Key, Any] = {}

    def _child(self, method: str, route: str, status: str) -> Any:
        key = (method, route, status)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = HTTP_DURATION.labels(self.service, method, route, status)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if nothing answers

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.in_flight += 1
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.in_flight -= 1
            child = self._child(scope["method"], route_template(scope), str(status))
            child.observe(time.perf_counter() - started)


def observe_upstream(caller: str, target: str, outcome: str, seconds: float) -> None:
    UPSTREAM_CALLS.labels(caller, target, outcome).inc()
    UPSTREAM_DURATION.labels(caller, target).observe(seconds)


def status_outcome(status: int) -> str:
    return f"{status // 100}xx"


def outcome_of(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "unreachable"
    return "broken"


def track_pool(service: str, pool: Any) -> None:
    """Read the SQLAlchemy pool's use at scrape time (nothing per request). SQLite's
    pools have no size; those read 0."""

    def reader(name: str) -> Callable[[], float]:
        method = getattr(pool, name, None)
        return (lambda: float(method())) if callable(method) else (lambda: 0.0)

    DB_POOL_CHECKED_OUT.labels(service).set_function(reader("checkedout"))
    DB_POOL_SIZE.labels(service).set_function(reader("size"))
    DB_POOL_OVERFLOW.labels(service).set_function(reader("overflow"))


def metrics_router() -> APIRouter:
    """`GET /metrics`: out of the OpenAPI document, so the gateway never routes it."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def get_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_metrics(app: FastAPI) -> None:
    if app.state.settings.metrics_enabled:
        app.include_router(metrics_router())
