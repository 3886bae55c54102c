"""Helpers for the end-to-end tests: the replica mode (`REPLICAS`, `REPLICA_ENV`), the real
stack started as processes (`started_stack`), and `RunningStack`, its clients and tokens,
each request sent to the next replica (`Spread`)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from shared.settings import Settings
from shared.stack import Stack
from tests.databases import TestDatabases
from tests.helpers import REDIS_URL, process_env, test_settings, token_for

REPLICAS = int(os.environ.get("BW_TEST_REPLICAS", "1"))
# With twice the processes, each keeps fewer connections: the test server has 100 for all.
REPLICA_ENV = {"BW_REDIS_URL": REDIS_URL, "BW_DB_POOL_SIZE": "2", "BW_DB_MAX_OVERFLOW": "6"}


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


@contextmanager
def started_stack(databases: TestDatabases, log_dir: Path) -> Iterator[RunningStack]:
    """The gateway and every service as processes on free ports (`REPLICAS` of each) on
    these databases, logging to `log_dir`, until the block ends (the `stack` fixture)."""
    env = process_env(databases, **(REPLICA_ENV if REPLICAS > 1 else {}))
    running = Stack.on_free_ports(env, log_dir=log_dir, replicas=REPLICAS)
    try:
        running.up()
    except (RuntimeError, TimeoutError):
        running.stop()
        for log in sorted(log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")
        raise
    settings = test_settings(databases.urls)
    yield RunningStack(running, settings)
    running.stop()
