"""The real stack: gateway and services as uvicorn processes on free ports, on their own
fresh databases, talking HTTP to each other.

`BW_TEST_REPLICAS=2` runs two processes of every service and of the gateway (issue 13's
replica mode): the services call each other's replicas in turn (`shared.replicas`), the
clients here send each request to the next gateway, and the rate limit is kept in Redis
(`BW_TEST_REDIS`, default the local server), shared by the gateways."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from shared.stack import Stack
from tests.conftest import TEST_SECRET, test_settings, token_for
from tests.databases import TestDatabases
from tests.helpers import REDIS_URL

REPLICAS = int(os.environ.get("BW_TEST_REPLICAS", "1"))
# With twice the processes, each keeps fewer connections: the test server has 100 for all.
REPLICA_ENV = {"BW_REDIS_URL": REDIS_URL, "BW_DB_POOL_SIZE": "2", "BW_DB_MAX_OVERFLOW": "6"}


# Checks of the replicas themselves run in the replica-mode pass only (`make replicas`).
collect_ignore = [] if REPLICAS > 1 else ["test_replicas.py"]


class Spread(httpx.HTTPTransport):
    """Each request to the next of a component's replicas, as a load balancer would."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        self._ports = itertools.cycle([httpx.URL(url).port for url in urls])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(port=next(self._ports))
        return super().handle_request(request)


class RunningStack:
    def __init__(self, stack: Stack, settings: Settings) -> None:
        self.stack = stack
        self.settings = settings

    def url(self, name: str = "gateway") -> str:
        return self.stack.url(name)

    def token(self, role: str, org: str = "org-1", **kw: object) -> str:
        return token_for(self.settings, role, org, **kw)  # type: ignore[arg-type]

    def client(
        self, role: str | None = None, org: str = "org-1", name: str = "gateway", **kw: object
    ) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(role, org, **kw)}"} if role else {}
        return httpx.Client(
            base_url=self.url(name),
            headers=headers,
            timeout=30.0,
            transport=Spread(self.stack.urls(name)),
        )


@pytest.fixture(scope="session")
def stack(
    e2e_databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    env = {
        "BW_ENV": "test",
        "BW_JWT_SECRET": TEST_SECRET,
        "BW_LOG_LEVEL": "WARNING",
        "BW_RATE_LIMIT_PER_MINUTE": "1000000",
        "BW_RATE_LIMIT_BURST": "1000000",
        # Few idle connections per process (see tests.helpers.process_env).
        "BW_DB_POOL_SIZE": "2",
        "BW_DB_MAX_OVERFLOW": "10",
        **e2e_databases.env(),
    }
    if REPLICAS > 1:
        env |= REPLICA_ENV
    log_dir = Path(tmp_path_factory.mktemp("stack-logs"))
    running = Stack.on_free_ports(env, log_dir=log_dir, replicas=REPLICAS)
    try:
        running.up()
    except (RuntimeError, TimeoutError):
        running.stop()
        for log in sorted(log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")
        raise
    settings = test_settings(e2e_databases.urls)
    yield RunningStack(running, settings)
    running.stop()
