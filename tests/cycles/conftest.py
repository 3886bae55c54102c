"""Fixtures for the cycles API tests; their helpers are in `tests.cycles.world`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.cycles.world import World
from tests.inprocess import Api
from tests.integrations.world import Receiver, webhook_receiver


@pytest.fixture
def world(api: Api) -> World:
    return World(api)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver, as in the integrations tests (`tests/cycles/test_unannounced.py`)."""
    async with webhook_receiver() as box:
        yield box
