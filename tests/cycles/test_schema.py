"""The hand-written migrations build exactly the tables the models describe (the cycle's
`schedule_rules` included)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from services.cycles.models import TABLES
from shared.idempotency import IdempotencyRecord
from shared.migrations import service_metadata
from tests.conftest import Api

# The idempotency table is shared.idempotency's; this covers the cycles service's own.
OWN_TABLES = [table for table in TABLES if table is not IdempotencyRecord]


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, kind, _parent: (
                kind != "table" or name != "idempotency_record"
            ),
        },
    )
    return list(compare_metadata(context, service_metadata(*OWN_TABLES)))


async def test_migrated_schema_matches_the_models(api: Api) -> None:
    engine = api.apps["cycles"].state.engine
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
