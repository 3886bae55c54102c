"""Fixtures for the integrations tests; their helpers are in `tests.integrations.world`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integrations.world import Receiver, webhook_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as box:
        yield box
