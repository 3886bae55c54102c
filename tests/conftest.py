"""Fixtures and hooks for the whole suite (the helpers they use are plain modules:
`tests.helpers`, `tests.inprocess`, `tests.databases`).

- The four services and the gateway run in process, wired to each other through httpx
  ASGI transports (real HTTP semantics, no mocks of our own code), on fresh databases
  migrated with Alembic: PostgreSQL always in CI.
- Every test that touches a database starts from empty tables (truncated after each test).
- `api.client("billing", role="participant", org="buyer-1")` gives an authenticated client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from shared.settings import Settings
from tests.databases import IN_CI, PG_ADMIN_DSN, TestDatabases, using_postgres
from tests.helpers import test_settings
from tests.inprocess import Api, build_apps, truncate_all


def pytest_configure(config: pytest.Config) -> None:
    if not using_postgres() and IN_CI:
        pytest.exit(
            f"PostgreSQL is not reachable at {PG_ADMIN_DSN}; CI runs the suite on PostgreSQL "
            "and will not fall back to SQLite. Start PostgreSQL and run again.",
            returncode=3,
        )


def pytest_report_header(config: pytest.Config) -> str:
    if using_postgres():
        return f"databases: PostgreSQL at {PG_ADMIN_DSN}"
    return (
        f"databases: SQLite. PostgreSQL is not reachable at {PG_ADMIN_DSN}, so the tests marked "
        "'postgres' (locking and concurrency) are skipped; they are listed by name at the end."
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if using_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (not reachable; running on SQLite)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
async def databases() -> AsyncIterator[TestDatabases]:
    dbs = TestDatabases(postgres=using_postgres(), label="suite")
    await dbs.create()
    yield dbs
    await dbs.drop()


@pytest.fixture(scope="session")
def settings(databases: TestDatabases) -> Settings:
    return test_settings(databases.urls)


@pytest.fixture(scope="session")
async def apps(settings: Settings) -> AsyncIterator[dict[str, FastAPI]]:
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    built = build_apps(settings, mounts)
    async with AsyncExitStack() as stack:
        for app in built.values():
            await stack.enter_async_context(LifespanManager(app, startup_timeout=120))
        yield built


@pytest.fixture(scope="session")
async def gateway_app(settings: Settings, apps: dict[str, FastAPI]) -> AsyncIterator[Any]:
    from gateway.app import create_app

    mounts = {settings.service_url(s): httpx.ASGITransport(app=app) for s, app in apps.items()}
    app = create_app(settings, http_mounts=mounts)  # type: ignore[arg-type]
    async with LifespanManager(app) as manager:
        yield manager.app


@pytest.fixture(autouse=True)
async def _clean_databases(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "apps" in request.fixturenames:
        await truncate_all(request.getfixturevalue("apps"))


@pytest.fixture
async def api(settings: Settings, apps: dict[str, FastAPI]) -> AsyncIterator[Api]:
    helper = Api(settings, apps)
    yield helper
    await helper.aclose()


@pytest.fixture
async def gateway_api(
    settings: Settings, apps: dict[str, FastAPI], gateway_app: Any
) -> AsyncIterator[Api]:
    helper = Api(settings, apps, gateway_app)
    yield helper
    await helper.aclose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def e2e_databases() -> Iterator[TestDatabases]:
    import asyncio

    dbs = TestDatabases(postgres=using_postgres(), label="e2e")
    asyncio.run(dbs.create())
    yield dbs
    asyncio.run(dbs.drop())


@pytest.fixture
async def own_databases() -> AsyncIterator[TestDatabases]:
    """Fresh PostgreSQL databases for a test that starts its own processes."""
    dbs = TestDatabases(postgres=True, label="own")
    await dbs.create()
    yield dbs
    await dbs.drop()
