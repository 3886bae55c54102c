"""The eligibility service (see DESCRIPTION)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter
from starlette.middleware.gzip import GZipMiddleware

from services.eligibility.api import router
from services.eligibility.domain import Engine
from services.eligibility.domain.ruleset import default_rule_book
from services.eligibility.jobs import ScopingJobs
from services.eligibility.schemas import BulkCheckRequest, FactoryListUpload
from services.eligibility.store.registry import RegistryCache
from shared.app import create_service_app
from shared.background import start_repeating, stop_repeating
from shared.settings import Settings, get_settings

DESCRIPTION = """Country programme rules, the factory registry, factory-list scoping and partnership
applications.

Errors are RFC 9457 problem details (`application/problem+json`). Every endpoint but the
health checks needs a bearer JWT; the roles allowed are listed per operation (`x-roles`).
"""


async def _start_jobs(app: FastAPI) -> None:
    """List jobs, and the sweep that takes over the lists of processes that died (their
    lease ran out) in every replica."""
    settings: Settings = app.state.settings
    jobs = ScopingJobs(
        sessionmaker=app.state.sessionmaker,
        engine=app.state.decision_engine,
        registry=app.state.registry,
        lease=timedelta(seconds=settings.list_lease_s),
    )
    app.state.jobs = jobs
    start_repeating(app, "list_sweep", jobs.step, interval=settings.list_sweep_s)


def _stop_jobs_on_shutdown(app: FastAPI) -> None:
    """Stop list jobs (they hand their list back to the other processes) before the engine
    closes."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            try:
                yield state
            finally:
                await stop_repeating(app, "list_sweep")
                jobs: ScopingJobs | None = getattr(app.state, "jobs", None)
                if jobs is not None:
                    await jobs.close()

    app.router.lifespan_context = lifespan


def _document_bodies(app: FastAPI, models: tuple[type[BaseModel], ...]) -> None:
    """Routes that read their body themselves (a factory list comes as JSON, CSV or a file;
    a bulk check is validated straight from bytes) declare it with `api.deps.json_body`;
    here their models join the document's components."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            if model.__name__ not in schemas:
                schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, definition)
                schemas[model.__name__] = schema
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    rule_book = default_rule_book()  # invalid rule files stop the service here
    app = create_service_app(
        service="eligibility",
        settings=settings or get_settings(),
        routers=[router],
        description=DESCRIPTION,
        http_mounts=http_mounts,
        on_startup=[_start_jobs],
    )
    app.state.decision_engine = Engine(rule_book)
    app.state.registry = RegistryCache()
    _stop_jobs_on_shutdown(app)
    _document_bodies(app, (FactoryListUpload, BulkCheckRequest))
    # Bulk replies and list pages run to megabytes of repetitive JSON: gzip them for the
    # clients that ask (every common HTTP client does), cheaply (level 1).
    app.add_middleware(GZipMiddleware, minimum_size=64 * 1024, compresslevel=1)
    return app
