"""Fixtures for the reports API tests; their helpers are in `tests.reports.world`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.inprocess import Api
from tests.reports.world import World


@pytest.fixture
async def world(api: Api) -> World:
    return World(api)


@pytest.fixture(autouse=True)
def _forget_settled_facts(request: pytest.FixtureRequest) -> Iterator[None]:
    """The suite empties the tables after each test, which production never does: facts the
    reports service keeps because they never turn false there (services/reports/store/settled.py)
    would outlive the rows they came from."""
    yield
    if "apps" in request.fixturenames:
        request.getfixturevalue("apps")["reports"].state.settled.clear()
