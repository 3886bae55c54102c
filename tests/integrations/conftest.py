"""Fixtures for the integrations tests; their helpers are in `tests.integrations.world`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.databases import TestDatabases
from tests.integrations.world import Receiver, webhook_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as box:
        yield box


@pytest.fixture
async def own_databases() -> AsyncIterator[TestDatabases]:
    """Fresh PostgreSQL databases for a test that starts its own processes."""
    dbs = TestDatabases(postgres=True, label="own")
    await dbs.create()
    yield dbs
    await dbs.drop()
