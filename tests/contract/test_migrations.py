"""Every service's hand-written migrations build exactly the tables its models describe
(compared by Alembic on the migrated test database). The idempotency table is
shared.idempotency's, kept in step with its create_table() there, so it is left out."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from shared.idempotency import IdempotencyRecord
from shared.migrations import service_metadata
from shared.settings import SERVICES
from tests.inprocess import Api


def _differences(connection: Connection, service: str) -> list[Any]:
    tables = importlib.import_module(f"services.{service}.models").TABLES
    own = [table for table in tables if table is not IdempotencyRecord]
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, kind, _parent: (
                kind != "table" or name != "idempotency_record"
            ),
        },
    )
    return list(compare_metadata(context, service_metadata(*own)))


@pytest.mark.parametrize("service", SERVICES)
async def test_migrated_schema_matches_the_models(api: Api, service: str) -> None:
    async with api.apps[service].state.engine.connect() as connection:
        differences = await connection.run_sync(_differences, service)
    assert differences == []
