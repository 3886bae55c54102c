"""Real processes for the operations tests: eligibility, billing, reports and the gateway
as uvicorn processes on PostgreSQL, exporting their traces over OTLP/HTTP to a collector
this test runs (`OtlpReceiver`: it keeps the spans it is sent, in memory). The fixture is
here; its helpers are in `tests.ops.world`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.stack import Stack
from tests import databases as test_databases
from tests.helpers import process_env, test_settings, token_for
from tests.ops.world import SERVICES, Ops, OtlpReceiver


@pytest.fixture(scope="package")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ops]:
    databases = test_databases.TestDatabases(postgres=True, label="ops")
    asyncio.run(databases.create())
    collector = OtlpReceiver()
    env = process_env(
        databases,
        BW_SHUTDOWN_DRAIN_SECONDS="1",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    stack = Stack.on_free_ports(env, log_dir=Path(tmp_path_factory.mktemp("ops-logs")))
    try:
        stack.up(SERVICES)
        settings = test_settings(databases.urls)
        yield Ops(stack, collector, lambda *a, **k: token_for(settings, *a, **k))
    finally:
        stack.stop()
        collector.close()
        asyncio.run(databases.drop())
