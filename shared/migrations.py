"""Alembic, one environment per service (`services/<name>/migrations`).

`upgrade(service, url)` is what `make run`, service start-up and the tests call; each
service's `env.py` is a one-liner that hands its tables to `run_env`.
"""

from __future__ import annotations

import asyncio
import zlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from shared.db import is_sqlite, make_engine

__all__ = ["alembic_config", "run_env", "service_metadata", "upgrade"]

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Blocking: call it from a thread when an event loop is running."""
    command.upgrade(alembic_config(service, url), revision)


def service_metadata(*tables: type[SQLModel] | str) -> MetaData:
    """The tables of one service, by class or name (for autogenerate): SQLModel's global
    metadata holds the tables of every service imported into the process."""
    names = {t if isinstance(t, str) else str(t.__tablename__) for t in tables}
    metadata = MetaData()
    for name, table in SQLModel.metadata.tables.items():
        if name in names:
            table.to_metadata(metadata)
    return metadata


def _run(connection: Connection, metadata: MetaData, service: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas starting together: one migrates, the others wait and find nothing to do.
            lock_id = zlib.crc32(f"betterwork-migrations-{service}".encode())
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData, service: str) -> None:
    engine = make_engine(url) if is_sqlite(url) else make_engine(url, pool_size=1, max_overflow=0)
    async with engine.connect() as connection:
        await connection.run_sync(_run, metadata, service)
        await connection.commit()
    await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    service = str(config.attributes.get("service", "unknown"))
    assert url, "sqlalchemy.url is set by shared.migrations.alembic_config"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url, metadata, service))
