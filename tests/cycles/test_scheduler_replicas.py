"""The milestone scheduler in two real cycles processes on one PostgreSQL, both running it
every 0.1 s: each alert is claimed by one of them (FOR UPDATE SKIP LOCKED) and recorded as
one event, none twice, none left behind."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from shared.clock import today
from shared.stack import Stack, free_port
from tests import databases as dbmod
from tests import helpers as root
from tests.helpers import process_env

pytestmark = pytest.mark.postgres

CYCLES = 6
COMPONENTS = ["eligibility", "reports", "cycles", "cycles-2"]


async def test_two_processes_send_each_alert_once(
    own_databases: dbmod.TestDatabases, tmp_path: Path
) -> None:
    env = process_env(own_databases, BW_SCHEDULER_SECONDS="0.1")
    ports = {name: free_port() for name in (*COMPONENTS, "billing", "integrations", "gateway")}
    stack = Stack(ports, env, log_dir=tmp_path)
    settings = root.test_settings(own_databases.urls)
    advisor = {"Authorization": "Bearer " + root.token_for(settings, "advisor", "bw")}
    try:
        stack.start(COMPONENTS)
        await asyncio.to_thread(stack.wait_healthy, COMPONENTS, 120)
        async with httpx.AsyncClient(timeout=30, headers=advisor) as http:
            for n in range(CYCLES):
                factory = {
                    "name": f"Factory {uuid.uuid4().hex[:8]}",
                    "address": "1 Industrial Road",
                    "country": "BD",
                    "region": "Gazipur",
                    "products": ["garments"],
                    "worker_count": 800,
                }
                made = await http.post(stack.url("eligibility") + "/factories", json=factory)
                assert made.status_code == 201, made.text
                factory_id = made.json()["id"]
                enrolled = await http.post(
                    stack.url("eligibility") + f"/factories/{factory_id}/enrolment",
                    json={"status": "enrolled"},
                )
                assert enrolled.status_code == 200, enrolled.text
                # Opened long ago: every milestone is due; each process may open some.
                start = today() - timedelta(days=200)
                opened = await http.post(
                    stack.url(("cycles", "cycles-2")[n % 2]) + f"/factories/{factory_id}/cycles",
                    json={"start_date": start.isoformat()},
                )
                assert opened.status_code == 201, opened.text

        engine = create_async_engine(own_databases.urls["cycles"])
        try:
            deadline = time.monotonic() + 60
            async with engine.connect() as db:
                while True:
                    unsent = await db.scalar(
                        sa.text(
                            "SELECT count(*) FROM milestone_alert "
                            "WHERE sent_at IS NULL AND fire_on <= CURRENT_DATE"
                        )
                    )
                    planned = await db.scalar(sa.text("SELECT count(*) FROM milestone_alert"))
                    if planned and not unsent:
                        break
                    assert time.monotonic() < deadline, f"{unsent} alerts left unsent"
                    await db.rollback()
                    await asyncio.sleep(0.2)
                await asyncio.sleep(0.5)  # both schedulers go round again: no repeat
                rows = (
                    await db.execute(
                        sa.text(
                            "SELECT subject_id, type, data FROM outbox_event "
                            "WHERE type LIKE 'milestone.%'"
                        )
                    )
                ).all()
                sent = await db.scalar(
                    sa.text("SELECT count(*) FROM milestone_alert WHERE sent_at IS NOT NULL")
                )
        finally:
            await engine.dispose()
    finally:
        stack.stop()
    keys = [tuple(row) for row in rows]
    assert len(keys) == len(set(keys)), "an alert was recorded twice"
    assert len(keys) >= CYCLES, keys  # at least one overdue milestone per cycle
    assert sent >= len(keys)  # every event is a sent alert (the unannounced one has none)
