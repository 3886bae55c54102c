"""The real stack: gateway and services as uvicorn processes on free ports, on their own
fresh databases, talking HTTP to each other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import SERVICES, Settings
from shared.stack import Stack
from tests.conftest import TEST_SECRET, test_settings, token_for
from tests.databases import TestDatabases


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
        return httpx.Client(base_url=self.url(name), headers=headers, timeout=30.0)


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
        **e2e_databases.env(),
    }
    log_dir = Path(tmp_path_factory.mktemp("stack-logs"))
    running = Stack.on_free_ports(env, log_dir=log_dir)
    running.start(list(SERVICES))
    try:
        running.wait_healthy(timeout_s=120)
        running.start(["gateway"])
        running.wait_healthy(["gateway"])
    except (RuntimeError, TimeoutError):
        running.stop()
        for log in sorted(log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")
        raise
    settings = test_settings(e2e_databases.urls)
    yield RunningStack(running, settings)
    running.stop()
