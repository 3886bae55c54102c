"""The real stack: gateway and services as uvicorn processes on free ports, on their own
fresh databases, talking HTTP to each other. The fixture is here; its helpers are in
`tests.e2e.world`.

`BW_TEST_REPLICAS=2` runs two processes of every service and of the gateway (issue 13's
replica mode): the services call each other's replicas in turn (`shared.replicas`), the
clients here send each request to the next gateway, and the rate limit is kept in Redis
(`BW_TEST_REDIS`, default the local server), shared by the gateways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import TestDatabases
from tests.e2e.world import REPLICAS, RunningStack, started_stack

# Checks of the replicas themselves run in the replica-mode pass only (`make replicas`).
collect_ignore = [] if REPLICAS > 1 else ["test_replicas.py"]


@pytest.fixture(scope="session")
def stack(
    e2e_databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    with started_stack(e2e_databases, Path(tmp_path_factory.mktemp("stack-logs"))) as running:
        yield running
