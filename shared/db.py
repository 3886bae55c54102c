"""The async engine and the one commit point per request.

Routes take `SessionDep`; domain and store code only add and flush. The dependency commits
when the route function returns (before the response is sent, so a failed commit is a
failed request) and rolls back on any exception: a request never half-writes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import SQLModel

__all__ = [
    "SessionDep",
    "insert_for",
    "insert_row",
    "is_sqlite",
    "make_engine",
    "make_sessionmaker",
    "ping",
]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; busy_timeout waits instead of "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def insert_for(session: AsyncSession) -> Any:
    """`insert` of the session's dialect, for INSERT … ON CONFLICT (PostgreSQL and SQLite
    share that API; the generic `sa.insert` has none)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def insert_row(session: AsyncSession, row: SQLModel) -> None:
    """INSERT one model instance as a plain Core statement with bound parameters: the same
    compiled statement every time (the ORM's `insert(Model).values(**row)` builds and
    hashes a new statement per call, which costs more than the round trip on hot paths)."""
    table: sa.Table = row.__table__  # type: ignore[attr-defined]
    await session.execute(sa.insert(table), row.model_dump())


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


# Behind PgBouncer in transaction pooling, consecutive transactions of one connection may
# run on different server connections: a statement prepared on one is unknown (or another
# one) on the next. So asyncpg caches no prepared statements and names each uniquely.
PGBOUNCER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _unique_statement_name,
}


def make_engine(url: str, *, pgbouncer: bool = False, **overrides: Any) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, **overrides)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": False}
    if pgbouncer:
        options["connect_args"] = PGBOUNCER_CONNECT_ARGS
    options.update(overrides)
    return create_async_engine(url, **options)


def make_sessionmaker(
    engine: AsyncEngine, *, autocommit: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`. `autocommit`: every statement commits on its own, with no
    BEGIN/COMMIT round trips, for steps that are one atomic statement each (the saga steps
    of an unlock, an idempotency claim); `commit()` is then a no-op."""
    if autocommit:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    # expire_on_commit=False: the reply is shaped from objects after the commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
