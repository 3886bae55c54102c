"""Factory-list jobs on real eligibility processes sharing one PostgreSQL (issue 13): a
process killed with -9 while scoping leaves its list to another process, which finishes it
with every row; with two processes each list completes once (one set of results, one
lookup per matched factory, one `factory_list.completed` event). The list lease is 2 s
here and every process sweeps twice a second, so a dead process's list is taken over in
a few seconds."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from shared.stack import Stack
from tests import databases as test_databases
from tests import helpers
from tests.helpers import process_env

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@dataclass
class Replicas:
    """Eligibility processes on their own ports against the same databases."""

    env: dict[str, str]
    database_url: str
    log_dir: Path
    token: str
    stacks: list[Stack] = field(default_factory=list)

    def start(self) -> Stack:
        stack = Stack.on_free_ports(self.env, log_dir=self.log_dir / str(len(self.stacks)))
        stack.start(["eligibility"])
        stack.wait_healthy(["eligibility"], timeout_s=120)
        self.stacks.append(stack)
        return stack

    def client(self, stack: Stack) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=stack.url("eligibility"), headers=headers, timeout=60.0)

    def stop_all(self) -> None:
        for stack in self.stacks:
            stack.stop()
        self.stacks.clear()

    def query(self, statement: str, **params: Any) -> list[Any]:
        async def run() -> list[Any]:
            engine = create_async_engine(self.database_url)
            try:
                async with engine.connect() as connection:
                    return list((await connection.execute(sa.text(statement), params)).all())
            finally:
                await engine.dispose()

        return asyncio.run(run())


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Replicas]:
    databases = test_databases.TestDatabases(postgres=True, label="listjobs")
    asyncio.run(databases.create())
    env = process_env(
        databases,
        BW_LIST_LEASE_SECONDS="2",
        BW_LIST_SWEEP_SECONDS="0.5",
    )
    settings = helpers.test_settings(databases.urls)
    token = helpers.token_for(settings, "partner", "brand-jobs")
    running = Replicas(env, databases.urls["eligibility"], tmp_path, token)
    try:
        yield running
    finally:
        running.stop_all()
        asyncio.run(databases.drop())


def _csv(rows: int, tag: str) -> bytes:
    lines = ["client_ref,name,country,products,worker_count"]
    lines += [
        f"{tag}{i},Supplier {tag} Apparels {i} Ltd,BD,garments,{200 + i % 900}" for i in range(rows)
    ]
    return "\n".join(lines).encode()


def _upload(client: httpx.Client, rows: int, tag: str) -> str:
    reply = client.post(
        "/factory-lists", content=_csv(rows, tag), headers={"content-type": "text/csv"}
    )
    assert reply.status_code == 202, reply.text
    list_id: str = reply.json()["id"]
    return list_id


def _wait_settled(client: httpx.Client, list_id: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        status: dict[str, Any] = client.get(f"/factory-lists/{list_id}").json()
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def _assert_complete_once(
    replicas: Replicas, client: httpx.Client, list_id: str, rows: int
) -> None:
    status = _wait_settled(client, list_id, timeout_s=240)
    assert status["status"] == "done", status
    assert status["summary"]["total"] == rows
    table = list(
        csv.DictReader(io.StringIO(client.get(f"/factory-lists/{list_id}/results.csv").text))
    )
    assert [r["row"] for r in table] == [str(i) for i in range(1, rows + 1)]
    events = replicas.query(
        "SELECT data FROM outbox_event WHERE type = 'factory_list.completed' AND subject_id = :id",
        id=list_id,
    )
    assert len(events) == 1, events
    chunks = replicas.query(
        "SELECT sum(row_count) FROM factory_list_chunk WHERE list_id = :id", id=list_id
    )
    assert chunks[0][0] == rows
    leftovers = replicas.query(
        "SELECT count(*) FROM factory_list_upload WHERE list_id = :id", id=list_id
    )
    assert leftovers[0][0] == 0


def test_a_list_whose_process_is_killed_mid_scoping_is_finished_by_another(
    replicas: Replicas,
) -> None:
    first = replicas.start()
    rows = 40_000
    with replicas.client(first) as client:
        list_id = _upload(client, rows, "k")
        deadline = time.monotonic() + 30
        while client.get(f"/factory-lists/{list_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    time.sleep(0.5)
    first.kill("eligibility")
    (status,) = replicas.query("SELECT status FROM factory_list WHERE id = :id", id=list_id)
    assert status[0] == "running", "the list finished before the kill: make it larger"

    second = replicas.start()
    with replicas.client(second) as client:
        _assert_complete_once(replicas, client, list_id, rows)
    (attempts,) = replicas.query("SELECT attempts FROM factory_list WHERE id = :id", id=list_id)
    assert attempts[0] == 2


def test_two_processes_complete_each_list_once(replicas: Replicas) -> None:
    stacks = [replicas.start(), replicas.start()]
    clients = [replicas.client(stack) for stack in stacks]
    try:
        lists = [(_upload(clients[i % 2], 3_000 + i, f"t{i}-"), 3_000 + i) for i in range(6)]
        for list_id, rows in lists:
            _assert_complete_once(replicas, clients[0], list_id, rows)
    finally:
        for client in clients:
            client.close()
