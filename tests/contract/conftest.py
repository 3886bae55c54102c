"""Fixtures for the contract tests: the real stack, started as for the end-to-end tests
(`tests.e2e.world.started_stack`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import TestDatabases
from tests.e2e.world import RunningStack, started_stack


@pytest.fixture(scope="session")
def stack(
    e2e_databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    with started_stack(e2e_databases, Path(tmp_path_factory.mktemp("stack-logs"))) as running:
        yield running
