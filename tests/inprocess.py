"""The in-process stack: the five services built and wired through httpx ASGI transports
(`build_apps`), authenticated clients for them and the gateway (`Api`), and emptying their
tables between tests (`truncate_all`)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from shared.settings import Settings
from tests.helpers import token_for


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


_TABLES: dict[str, list[str]] = {}


async def truncate_all(apps: dict[str, FastAPI]) -> None:
    """Empty every table of every service (not alembic_version)."""
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
