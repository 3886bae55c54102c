"""Fresh databases for one test run: on PostgreSQL when it answers (always in CI), else
SQLite files with the PostgreSQL-only tests skipped and named."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg

from shared.settings import SERVICES

PG_ADMIN_DSN = os.environ.get("BW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent
IN_CI = bool(os.environ.get("CI"))
_POSTGRES: bool | None = None


async def _pg_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


def postgres_reachable() -> bool:
    return asyncio.run(_pg_reachable())


def using_postgres() -> bool:
    """Whether this run's databases are on PostgreSQL (asked once, then remembered)."""
    global _POSTGRES
    if _POSTGRES is None:
        _POSTGRES = postgres_reachable()
    return _POSTGRES


def _pg_url(database: str) -> str:
    host_part = PG_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host_part}/{database}"


class TestDatabases:
    """One database per service, named after this run so parallel runs never collide."""

    def __init__(self, *, postgres: bool, label: str) -> None:
        self.postgres = postgres
        self.run = f"bwt_{label}_{uuid.uuid4().hex[:8]}"
        self.urls: dict[str, str] = {}

    async def create(self) -> dict[str, str]:
        if self.postgres:
            admin = await asyncpg.connect(PG_ADMIN_DSN)
            try:
                for service in SERVICES:
                    await admin.execute(f'CREATE DATABASE "{self.run}_{service}"')
                    self.urls[service] = _pg_url(f"{self.run}_{service}")
            finally:
                await admin.close()
        else:
            folder = ROOT / "var" / "test"
            folder.mkdir(parents=True, exist_ok=True)
            for service in SERVICES:
                self.urls[service] = f"sqlite+aiosqlite:///{folder}/{self.run}_{service}.db"
        return self.urls

    async def drop(self) -> None:
        if self.postgres:
            admin = await asyncpg.connect(PG_ADMIN_DSN)
            try:
                for service in SERVICES:
                    await admin.execute(
                        f'DROP DATABASE IF EXISTS "{self.run}_{service}" WITH (FORCE)'
                    )
            finally:
                await admin.close()
        else:
            for service in SERVICES:
                for suffix in ("", "-wal", "-shm"):
                    path = ROOT / "var" / "test" / f"{self.run}_{service}.db{suffix}"
                    path.unlink(missing_ok=True)

    def env(self) -> dict[str, str]:
        return {f"{s.upper()}_DATABASE_URL": url for s, url in self.urls.items()}
