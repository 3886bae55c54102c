"""`create_service_app`: what every service has in common, so a service adds only its domain.

Lifespan (engine, migrations, sessions, the one HTTP client, the token verifier),
request ids, body limit, problem+json for every error, `/healthz` and `/readyz`, strict
query strings, and an OpenAPI document integrators can generate clients from (clean
operationIds, every error response documented as problem+json, `x-roles` per operation).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from shared.auth import TokenVerifier
from shared.db import make_engine, make_sessionmaker, ping
from shared.errors import Unprocessable
from shared.health import ReadinessCheck, health_router
from shared.http import make_http_client
from shared.limits import RequestLimitsMiddleware
from shared.logs import configure_logging
from shared.metrics import MetricsMiddleware, install_metrics, track_pool
from shared.migrations import upgrade
from shared.outbox import events_router
from shared.pagination import CursorSigner
from shared.problem_handlers import install_problem_handlers
from shared.requestid import RequestIdMiddleware
from shared.settings import Settings
from shared.shutdown import Drain, DrainMiddleware
from shared.tracing import (
    configure_tracing,
    fastapi_telemetry,
    instrument_engine,
    instrument_service,
    shutdown_tracing,
)

__all__ = ["ERROR_DESCRIPTIONS", "PROBLEM_SCHEMA", "create_service_app", "problem_responses"]

StartupHook = Callable[[FastAPI], Awaitable[None]]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong and what to do about it."},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}
ERROR_DESCRIPTIONS = {
    "400": "Bad request (for example a missing Idempotency-Key).",
    "401": "No token, or the token is invalid or expired.",
    "402": "Payment required: no report credits left.",
    "403": "The token's role may not do this, or the object belongs to another organisation.",
    "404": "Not found (also for objects the caller may not know of).",
    "409": "Conflict with the object's current state.",
    "413": "The request body is too large.",
    "415": "The body's media type is not accepted here (see the request body's content types).",
    "431": "The request headers are too large.",
    "422": "The request is not valid; `errors` lists each field.",
    "429": "Too many requests; see Retry-After.",
    "500": "Internal error; quote the request_id.",
    "502": "The service behind the gateway answered with something that is not HTTP.",
    "503": "A database or another service is not available; try again.",
    "504": "The service behind the gateway did not answer in time.",
}
PUBLIC_ERRORS = ("400", "404", "413", "422", "429", "431", "500", "503")
AUTHENTICATED_ERRORS = ("401", "403")


def problem_responses(
    *codes: int, descriptions: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's problem+json statuses beyond those every route documents
    (for example 402, 409, 415); `descriptions` overrides the generic wording."""
    return {
        code: {
            "description": (descriptions or {}).get(code) or ERROR_DESCRIPTIONS[str(code)],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for code in codes
    }


def _summary_and_description(route: APIRoute) -> tuple[str, str] | None:
    """A docstring's first paragraph is the operation's summary, the rest its description
    (FastAPI alone makes the whole docstring the description)."""
    doc = inspect.getdoc(route.endpoint)
    if route.summary is not None or not doc:
        return None
    summary, _, rest = doc.partition("\n\n")
    return " ".join(summary.split()), rest


def _operation_id(service: str) -> Callable[[APIRoute], str]:
    return lambda route: f"{service}-{route.name}"


def _all_dependants(dependant: Dependant) -> list[Dependant]:
    found = [dependant]
    for sub in dependant.dependencies:
        found.extend(_all_dependants(sub))
    return found


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside routers added with `include_router` (FastAPI keeps an
    included router as one `_IncludedRouter` entry of `app.routes`, not its routes)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _route_roles(route: APIRoute) -> list[str] | None:
    for dependant in _all_dependants(route.dependant):
        roles = getattr(dependant.call, "__roles__", None)
        if roles is not None:
            return list(roles)
    return None


def _allowed_query(route: APIRoute) -> frozenset[str]:
    cached: frozenset[str] | None = getattr(route, "_bw_allowed_query", None)
    if cached is None:
        cached = frozenset(
            field.alias for d in _all_dependants(route.dependant) for field in d.query_params
        )
        route._bw_allowed_query = cached  # type: ignore[attr-defined]
    return cached


async def _reject_unknown_query(request: Request) -> None:
    """Strict query strings: a typo like `?limt=10` is an error, not silently ignored."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _allowed_query(route)
    unknown = sorted(set(request.query_params.keys()) - allowed)
    if unknown:
        accepts = ", ".join(sorted(allowed)) or "no query parameters"
        raise Unprocessable(
            f"Unknown query parameter(s): {', '.join(unknown)}. This endpoint accepts: {accepts}."
        )


def _openapi(app: FastAPI, service: str, description: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        routes = {f"{service}-{r.name}": r for r in _api_routes(app.routes)}
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                codes = PUBLIC_ERRORS + (AUTHENTICATED_ERRORS if operation.get("security") else ())
                for code in codes:
                    entry = responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
                    entry["content"] = {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    }
                route = routes.get(operation.get("operationId", ""))
                texts = _summary_and_description(route) if route else None
                if texts and route and route.description == inspect.getdoc(route.endpoint):
                    operation["summary"], operation["description"] = texts
                roles = _route_roles(route) if route else None
                if roles is not None:
                    operation["x-roles"] = roles
                    operation["description"] = (
                        operation.get("description", "") + f"\n\nRoles: {', '.join(roles)}."
                    ).strip()
        app.openapi_schema = schema
        return schema

    return build


def create_service_app(
    *,
    service: str,
    settings: Settings,
    routers: Sequence[APIRouter],
    description: str,
    version: str = "1.0.0",
    http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
    on_startup: Sequence[StartupHook] = (),
    on_shutdown: Sequence[StartupHook] = (),
    outbox: bool = True,
    readiness: dict[str, ReadinessCheck] | None = None,
    migrate: bool = True,
) -> FastAPI:
    database_url = settings.database_url(service)
    traced = configure_tracing(service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, settings.log_level)
        settings.warn_if_insecure()
        if migrate:
            await asyncio.to_thread(upgrade, service, database_url)
        engine = make_engine(
            database_url,
            pgbouncer=settings.db_pgbouncer,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        app.state.engine = engine
        track_pool(service, engine.pool)
        if traced:
            instrument_engine(engine)
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.autocommit = make_sessionmaker(engine, autocommit=True)
        app.state.http = make_http_client(settings, http_mounts)
        for hook in on_startup:
            await hook(app)
        drain.install()
        try:
            yield
        finally:
            drain.uninstall()
            for hook in on_shutdown:
                await hook(app)
            await app.state.http.aclose()
            await engine.dispose()
            shutdown_tracing()

    app = FastAPI(
        title=f"Better Work {service} service",
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id(service),
        telemetry=fastapi_telemetry(traced),
        dependencies=[Depends(_reject_unknown_query)],
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service = service
    drain = app.state.drain = Drain(settings.shutdown_drain_s)
    app.state.verifier = TokenVerifier(settings)
    app.state.cursors = CursorSigner(settings.cursor_key)
    install_problem_handlers(app)

    async def database(request: Request) -> None:
        await ping(request.app.state.engine)

    async def not_shutting_down(_request: Request) -> None:
        drain.check_ready()

    checks = {"shutdown": not_shutting_down, "database": database, **(readiness or {})}
    app.include_router(health_router(service, checks))
    for router in routers:
        app.include_router(router)
    if outbox:
        app.include_router(events_router())
    install_metrics(app)
    app.openapi = _openapi(app, service, description)  # type: ignore[method-assign]
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
    )
    app.add_middleware(DrainMiddleware, drain=drain)
    app.add_middleware(RequestIdMiddleware)
    if settings.metrics_enabled:
        # Outermost: it sees the status of every reply, the 500 of last resort included.
        app.add_middleware(MetricsMiddleware, service=service)
    if traced:
        instrument_service(app)
    _check_unique_operation_ids(app, service)
    return app


def _check_unique_operation_ids(app: FastAPI, service: str) -> None:
    """operationId is `<service>-<route name>`: route names must be unique in a service,
    and each route serves one method, so generated clients get one name per operation."""
    seen: set[str] = set()
    for route in _api_routes(app.routes):
        if route.name in seen or len(route.methods or ()) != 1:
            raise RuntimeError(
                f"route {route.name!r} in {service}: names must be unique, one method per route"
            )
        seen.add(route.name)
