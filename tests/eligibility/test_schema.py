"""The hand-written migrations build exactly the tables the models describe (the
nominations table with its partial unique index included)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from services.eligibility.models import TABLES
from shared.migrations import service_metadata
from tests.conftest import Api


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, service_metadata(*TABLES)))


async def test_migrated_schema_matches_the_models(api: Api) -> None:
    engine = api.apps["eligibility"].state.engine
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
