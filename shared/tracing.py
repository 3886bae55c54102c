"""OpenTelemetry traces, W3C `traceparent` from the gateway to a service to another.

On only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (spans go there over OTLP/HTTP,
batched), or when the process already has an SDK tracer provider (tests install one with
an in-memory exporter). Off, nothing is set up: no provider, no instrumentation, and the
hot paths pay one boolean test (`ENABLED`). The SDK and the instrumentation packages are
imported only when on.

What is traced: every request a service answers (FastAPI instrumentation), its SQL
(SQLAlchemy instrumentation), the gateway's requests (ASGI instrumentation), and every call
to another service (a client span in `shared.transport`, which also injects the
`traceparent` header: the service clients and the gateway's proxy both send through it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import propagate, trace

__all__ = [
    "ENABLED",
    "client_span",
    "configure_tracing",
    "current_trace_id",
    "fastapi_telemetry",
    "instrument_engine",
    "instrument_service",
    "rename_server_span",
    "shutdown_tracing",
    "trace_asgi",
]

ENABLED = False
EXCLUDED_URLS = "healthz,readyz,metrics"
_TRACE_HEADERS = frozenset({"traceparent", "tracestate"})


def configure_tracing(service: str) -> bool:
    """Turn tracing on for this process if it is asked for; whether it is on. The first
    component of a process to call this names the process (`service.name`)."""
    global ENABLED
    from opentelemetry.trace import ProxyTracerProvider

    if isinstance(trace.get_tracer_provider(), ProxyTracerProvider):
        if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return ENABLED
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    ENABLED = True
    return ENABLED


def fastapi_telemetry(traced: bool) -> TelemetryConfig | None:
    """FastAPI's own OpenTelemetry support (`FastAPI(telemetry=...)`): off in a process that
    does not trace. It would find no provider there anyway, but it asks the global ones on
    every request (environment look-ups, 2% of reports' CPU in the unlock bench). A traced
    process keeps FastAPI's defaults."""
    return None if traced else {"tracing": False, "metrics": False, "logs": False}


def shutdown_tracing() -> None:
    """Send the spans still batched (at process exit)."""
    provider: Any = trace.get_tracer_provider()
    if ENABLED and hasattr(provider, "force_flush"):
        provider.force_flush(5_000)


def instrument_service(app: Any) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls=EXCLUDED_URLS)


def instrument_engine(engine: Any) -> None:
    """SQL spans. The instrumentor is one per process (a second call only warns): in a
    deployment a process holds one service, so one engine."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)


def _gateway_span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # The route is known only once the proxy has resolved it (`rename_server_span`);
    # until then `/v1/<service>`: never the raw path, whose ids would make each name unique.
    parts = scope.get("path", "").split("/")
    prefix = "/".join(parts[:3]) if len(parts) > 2 else scope.get("path", "")
    return f"{scope.get('method', 'HTTP')} {prefix}", {}


def trace_asgi(app: Any) -> Any:
    """The gateway's entry, wrapped in a server span that continues the caller's trace."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        app, excluded_urls=EXCLUDED_URLS, default_span_details=_gateway_span_details
    )


def rename_server_span(name: str) -> None:
    if ENABLED:
        trace.get_current_span().update_name(name)


@contextmanager
def client_span(method: str, url: str, headers: list[tuple[str, str]]) -> Iterator[Any]:
    """A CLIENT span around a call to another service; `headers` gets this span's
    `traceparent` (any the caller sent is replaced: the gateway passes client headers on)."""
    tracer = trace.get_tracer("betterwork.http")
    with tracer.start_as_current_span(
        f"{method} {url.split('?', 1)[0].split('/', 3)[2]}",
        kind=trace.SpanKind.CLIENT,
        attributes={"http.request.method": method, "url.full": url.split("?", 1)[0]},
    ) as span:
        headers[:] = [(k, v) for k, v in headers if k.lower() not in _TRACE_HEADERS]
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        headers.extend(carrier.items())
        yield span


def current_trace_id() -> str | None:
    """The trace id of the current span (32 hex digits), for log lines; None when off."""
    if not ENABLED:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
