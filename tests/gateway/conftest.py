"""The platform under test: the probe service and a gateway, each a real uvicorn server
on a free port (so timeouts, refused connections and streaming are real), the probe on
its own database holding only the idempotency table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from shared.idempotency import IdempotencyRecord
from shared.settings import Settings
from shared.stack import free_port
from tests.conftest import TEST_SECRET, token_for, using_postgres
from tests.databases import TestDatabases
from tests.gateway.probe import create_probe


async def serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    # As production starts it (shared.stack.uvicorn_command): no trust in X-Forwarded-For
    # from uvicorn itself; the gateway applies BW_TRUSTED_PROXIES.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


async def stop(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    await task


@dataclass
class Platform:
    settings: Settings
    gateway_url: str
    probe_url: str

    def token(self, role: str, org: str = "org-1", **kw: Any) -> str:
        return token_for(self.settings, role, org, **kw)

    def client(
        self, role: str | None = None, org: str = "org-1", *, direct: bool = False, **kw: Any
    ) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token(role, org, **kw)}"} if role else {}
        base = self.probe_url if direct else self.gateway_url
        return httpx.AsyncClient(base_url=base, headers=headers, timeout=30.0)


@pytest.fixture(scope="session")
async def probe_database() -> AsyncIterator[str]:
    dbs = TestDatabases(postgres=using_postgres(), label="probe")
    urls = await dbs.create()
    engine = create_async_engine(urls["billing"])
    async with engine.begin() as conn:
        tables = [SQLModel.metadata.tables[IdempotencyRecord.__tablename__]]
        await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=tables))
    await engine.dispose()
    yield urls["billing"]
    await dbs.drop()


def platform_settings(probe_db: str, probe_port: int, **overrides: Any) -> Settings:
    dead = free_port()  # nothing listens there: the "service down" case
    values: dict[str, Any] = {
        "BW_ENV": "test",
        "BW_JWT_SECRET": TEST_SECRET,
        "BW_LOG_LEVEL": "ERROR",
        "BW_UPSTREAM_TIMEOUT": 15,  # generous: the machine may be busy; 504s use their own
        "BW_MAX_BODY_BYTES": 1024 * 1024,
        "BW_RATE_LIMIT_PER_MINUTE": 1_000_000,
        "BW_RATE_LIMIT_BURST": 1_000_000,
        "BILLING_DATABASE_URL": probe_db,
        "BILLING_URL": f"http://127.0.0.1:{probe_port}",
        "ELIGIBILITY_URL": f"http://127.0.0.1:{dead}",
        "REPORTS_URL": f"http://127.0.0.1:{dead}",
        "CYCLES_URL": f"http://127.0.0.1:{dead}",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
async def platform_factory(probe_database: str) -> AsyncIterator[Callable[..., Any]]:
    """Start a probe + gateway pair with settings overrides; all stopped at the end."""
    from gateway.app import create_app as create_gateway

    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> Platform:
        probe_port, gateway_port = free_port(), free_port()
        settings = platform_settings(probe_database, probe_port, **overrides)
        running.append(await serve(create_probe(settings), probe_port))
        running.append(await serve(create_gateway(settings), gateway_port))
        return Platform(
            settings, f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{probe_port}"
        )

    yield start
    for server, task in reversed(running):
        await stop(server, task)


@pytest.fixture(scope="session")
async def platform(platform_factory: Callable[..., Any]) -> Platform:
    result: Platform = await platform_factory()
    return result


def assert_problem(
    reply: httpx.Response, status: int, *, detail_contains: str = ""
) -> dict[str, Any]:
    """Every error is RFC 9457 problem+json with a detail a person can act on."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json"), reply.headers
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    assert body["title"] and body["type"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    assert "Traceback" not in reply.text
    assert reply.headers.get("x-request-id")
    if detail_contains:
        assert detail_contains.lower() in body["detail"].lower(), body["detail"]
    return body
