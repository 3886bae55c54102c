"""Fixtures for the whole suite.

- The four services and the gateway run in process, wired to each other through httpx
  ASGI transports (real HTTP semantics, no mocks of our own code), on fresh databases
  migrated with Alembic: PostgreSQL always in CI.
- Every test that touches a database starts from empty tables (truncated after each test).
- `api.client("billing", role="participant", org="buyer-1")` gives an authenticated client.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from shared.auth import mint_service_token, mint_token
from shared.settings import SERVICES, Settings
from tests.databases import PG_ADMIN_DSN, TestDatabases, postgres_reachable

TEST_SECRET = "test-secret-for-the-suite-only-0123456789"
IN_CI = bool(os.environ.get("CI"))
_POSTGRES: bool | None = None


def using_postgres() -> bool:
    global _POSTGRES
    if _POSTGRES is None:
        _POSTGRES = postgres_reachable()
    return _POSTGRES


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


def test_settings(database_urls: dict[str, str], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "BW_ENV": "test",
        "BW_JWT_SECRET": TEST_SECRET,
        "BW_RATE_LIMIT_PER_MINUTE": 100_000,
        "BW_RATE_LIMIT_BURST": 100_000,
        "BW_HTTP_RETRIES": 1,
        "BW_LOG_LEVEL": "WARNING",
        # Tests take events in when they say so (`tests.helpers`), not on a timer.
        "BW_EVENTS_POLL_SECONDS": 0,
        # List jobs are drained by the tests (`eligibility_jobs.drain()`), not swept.
        "BW_LIST_SWEEP_SECONDS": 0,
        **{f"{s.upper()}_URL": f"http://{s}.test" for s in SERVICES},
        **{f"{s.upper()}_DATABASE_URL": url for s, url in database_urls.items()},
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
async def databases() -> AsyncIterator[TestDatabases]:
    dbs = TestDatabases(postgres=using_postgres(), label="suite")
    await dbs.create()
    yield dbs
    await dbs.drop()


@pytest.fixture(scope="session")
def settings(databases: TestDatabases) -> Settings:
    return test_settings(databases.urls)


def build_apps(
    settings: Settings, mounts: dict[str, httpx.AsyncBaseTransport]
) -> dict[str, FastAPI]:
    """All four services, each calling the others through `mounts` (filled in here)."""
    from services.billing.app import create_app as billing
    from services.cycles.app import create_app as cycles
    from services.eligibility.app import create_app as eligibility
    from services.integrations.app import create_app as integrations
    from services.reports.app import create_app as reports

    factories = {
        "eligibility": eligibility,
        "billing": billing,
        "reports": reports,
        "cycles": cycles,
        "integrations": integrations,
    }
    apps = {name: factory(settings, http_mounts=mounts) for name, factory in factories.items()}
    for name, app in apps.items():
        mounts[settings.service_url(name)] = httpx.ASGITransport(app=app)
    return apps


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


_TABLES: dict[str, list[str]] = {}


async def _truncate_all(apps: dict[str, FastAPI]) -> None:
    for service, app in apps.items():
        engine = app.state.engine
        if service not in _TABLES:
            async with engine.connect() as conn:
                if engine.dialect.name == "postgresql":
                    rows = await conn.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                            "AND tablename <> 'alembic_version'"
                        )
                    )
                else:
                    rows = await conn.execute(
                        text(
                            "SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT IN ('alembic_version') AND name NOT LIKE 'sqlite_%'"
                        )
                    )
                _TABLES[service] = [row[0] for row in rows]
        tables = _TABLES[service]
        if not tables:
            continue
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{t}"' for t in tables)
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            continue
        async with engine.connect() as conn:
            # SQLite: foreign keys off while emptying, so table order does not matter (the
            # pragma only takes effect outside a transaction, hence before and after).
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table in tables:
                await conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - our names
            await conn.commit()
            await conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture(autouse=True)
async def _clean_databases(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "apps" in request.fixturenames:
        await _truncate_all(request.getfixturevalue("apps"))


def token_for(
    settings: Settings,
    role: str,
    org: str,
    *,
    sub: str | None = None,
    countries: list[str] | None = None,
) -> str:
    if role == "service":
        return mint_service_token(settings, service="tests")
    if role == "advisor" and countries is None:
        countries = ["*"]
    return mint_token(
        settings, sub=sub or f"{role}-user@{org}", org=org, role=role, countries=countries
    )


class Api:
    """Authenticated clients for the in-process services and gateway."""

    def __init__(self, settings: Settings, apps: dict[str, FastAPI], gateway: Any = None) -> None:
        self.settings = settings
        self.apps = apps
        self.gateway = gateway
        self._clients: list[httpx.AsyncClient] = []

    def token(self, role: str, org: str = "org-1", **kw: Any) -> str:
        return token_for(self.settings, role, org, **kw)

    def client(
        self,
        service: str,
        role: str | None = None,
        org: str = "org-1",
        *,
        sub: str | None = None,
        countries: list[str] | None = None,
    ) -> httpx.AsyncClient:
        app = self.gateway if service == "gateway" else self.apps[service]
        headers = {}
        if role is not None:
            headers["Authorization"] = "Bearer " + self.token(
                role, org, sub=sub, countries=countries
            )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=f"http://{service}.test",
            headers=headers,
        )
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


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
