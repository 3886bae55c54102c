"""Fixtures for the gateway tests. The platform under test: the probe service and a gateway,
each a real uvicorn server on a free port (so timeouts, refused connections and streaming
are real), the probe on its own database holding only the idempotency table. Helpers are in
`tests.gateway.world`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from shared.idempotency import IdempotencyRecord
from shared.stack import free_port
from tests.databases import TestDatabases, using_postgres
from tests.gateway.probe import create_probe
from tests.gateway.world import Platform, platform_settings, serve, stop


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
