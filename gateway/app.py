"""The gateway on :8000: `/v1/<service>/...` goes to the proxy, everything else (health,
merged OpenAPI, docs) to a small FastAPI app. The proxy path skips FastAPI's routing: it is
the hot path, and every microsecond there is added to every call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway.catalogue import Catalogue
from gateway.openapi import merge
from gateway.proxy import Proxy
from shared.auth import TokenVerifier
from shared.health import health_router
from shared.limits import RequestLimitsMiddleware
from shared.logs import configure_logging
from shared.metrics import MetricsMiddleware, install_metrics
from shared.problem_handlers import install_problem_handlers
from shared.ratelimit import RateLimiter, make_limiter
from shared.requestid import RequestIdMiddleware
from shared.settings import SERVICES, Settings, get_settings
from shared.shutdown import Drain, DrainMiddleware
from shared.tracing import configure_tracing, fastapi_telemetry, shutdown_tracing, trace_asgi
from shared.transport import AiohttpTransport

__all__ = ["create_app"]


def _limiter(settings: Settings) -> RateLimiter:
    return make_limiter(
        redis_url=settings.redis_url,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
    )


class _Router:
    """ASGI entry: `/v1/...` to the proxy (once started), the rest to FastAPI."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            await self.app.state.proxy(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> ASGIApp:
    settings = settings or get_settings()
    traced = configure_tracing("gateway")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("gateway", settings.log_level)
        settings.warn_if_insecure()
        wire = AiohttpTransport()
        mounts = http_mounts or {}
        transports = {
            url: mounts.get(url, wire) for s in SERVICES for url in settings.service_urls(s)
        }
        # The client for the gateway's own calls (OpenAPI documents, readiness).
        http = httpx.AsyncClient(transport=wire, mounts=http_mounts)
        limiter = _limiter(settings)
        catalogue = Catalogue(settings, http)
        app.state.http = http
        app.state.catalogue = catalogue
        app.state.proxy = Proxy(settings, transports, app.state.verifier, catalogue, limiter)
        drain.install()
        try:
            yield
        finally:
            drain.uninstall()
            await limiter.close()
            await http.aclose()
            shutdown_tracing()

    app = FastAPI(
        title="Better Work gateway",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=lambda route: f"gateway-{route.name}",
        telemetry=fastapi_telemetry(traced),
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    drain = app.state.drain = Drain(settings.shutdown_drain_s)
    install_problem_handlers(app)

    async def services_ready(request: Request) -> None:
        http: httpx.AsyncClient = request.app.state.http

        async def check(service: str) -> None:
            # Ready when each service has a replica that is: the proxy sends to that one.
            answers = []
            for url in settings.service_urls(service):
                try:
                    reply = await http.get(f"{url}/readyz", timeout=3.0)
                except httpx.HTTPError as exc:
                    answers.append(repr(exc))
                    continue
                if reply.status_code == 200:
                    return
                answers.append(str(reply.status_code))
            raise RuntimeError(f"{service} answered {', '.join(answers)}")

        results = await asyncio.gather(*(check(s) for s in SERVICES), return_exceptions=True)
        failed = [s for s, r in zip(SERVICES, results, strict=True) if isinstance(r, BaseException)]
        if failed:
            raise RuntimeError(", ".join(failed))

    async def not_shutting_down(_request: Request) -> None:
        drain.check_ready()

    app.include_router(
        health_router("gateway", {"shutdown": not_shutting_down, "services": services_ready})
    )
    install_metrics(app)

    def own_paths() -> dict[str, Any]:
        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        return {p: v for p, v in document.get("paths", {}).items() if p in ("/healthz", "/readyz")}

    @app.get("/openapi.json", include_in_schema=False)
    async def get_openapi_document(request: Request) -> JSONResponse:
        catalogue: Catalogue = request.app.state.catalogue
        documents = await asyncio.gather(*(catalogue.document(s) for s in SERVICES))
        available = {s: d for s, d in zip(SERVICES, documents, strict=True) if d is not None}
        merged = merge(available, own_paths())
        missing = sorted(set(SERVICES) - set(available))
        if missing:
            merged["info"]["description"] += (
                f"\n\nNot included (service not answering): {', '.join(missing)}."
            )
        return JSONResponse(merged)

    @app.get("/docs", include_in_schema=False)
    async def get_docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Better Work API")

    entry: ASGIApp = _Router(app)
    entry = RequestLimitsMiddleware(
        entry, max_body_bytes=settings.max_body_bytes, max_header_bytes=settings.max_header_bytes
    )
    entry = DrainMiddleware(RequestIdMiddleware(entry), drain)
    if traced:
        # Outside the request id, so that its log lines carry the trace id too.
        entry = trace_asgi(entry)
    if settings.metrics_enabled:
        entry = MetricsMiddleware(entry, service="gateway")
    if settings.trusted_proxy_list:
        # The client address (per-IP limits, the X-Forwarded-For sent on) is the peer unless
        # the peer is a configured proxy; uvicorn runs with --no-proxy-headers so that this
        # setting, and not uvicorn's default of trusting 127.0.0.1, decides.
        # (uvicorn types ASGI more narrowly than Starlette; the protocol is the same.)
        proxied: Any = ProxyHeadersMiddleware(cast(Any, entry), settings.trusted_proxy_list)
        entry = proxied
    return entry
