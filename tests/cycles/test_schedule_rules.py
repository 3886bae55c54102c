"""Issue 12, item 4 on the API: new cycles hold the assessment by the end of month 4 (Table
2), cycles opened before keep the schedule they were opened with, and the migration marks
them so."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest
from sqlalchemy import text

from shared.migrations import upgrade
from tests.cycles.world import World, milestones
from tests.databases import PG_ADMIN_DSN, _pg_url
from tests.helpers import ok
from tests.inprocess import Api

START = date(2025, 1, 15)  # month 4 ends 2025-05-14, month 5 on 2025-06-14


async def as_if_opened_before(api: Api, cycle_id: str) -> None:
    """What the migration does to every cycle that exists when it runs."""
    async with api.apps["cycles"].state.engine.begin() as connection:
        await connection.execute(
            text("UPDATE cycle SET schedule_rules = '2024-01-01' WHERE id = :id"), {"id": cycle_id}
        )


@pytest.mark.parametrize(
    ("legacy", "day", "status", "window_end"),
    [
        (False, "2025-04-14", 422, "2025-05-14"),  # start + 89: rushed, in either schedule
        (False, "2025-04-15", 201, None),
        (False, "2025-05-13", 201, None),  # both days by the end of month 4
        (False, "2025-05-14", 422, "2025-05-14"),  # the second day would be in month 5
        (True, "2025-04-14", 422, "2025-06-14"),
        (True, "2025-05-14", 201, None),  # an old cycle keeps its month-5 window
        (True, "2025-06-13", 201, None),
        (True, "2025-06-14", 422, "2025-06-14"),
    ],
)
async def test_the_assessment_window_of_new_and_old_cycles(
    world: World, api: Api, legacy: bool, day: str, status: int, window_end: str | None
) -> None:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, START)
    if legacy:
        await as_if_opened_before(api, cycle["id"])
    body = {"type": "assessment", "date": day, "assessors": ["Assessor A", "Assessor B"]}
    reply = await world.advisor.post(f"/cycles/{cycle['id']}/visits", json=body)
    assert reply.status_code == status, reply.text
    if status == 422:
        problem = reply.json()
        assert problem["rule"] == "assessment_window"
        assert f"end of month {5 if legacy else 4} ({window_end})" in problem["detail"]


async def test_an_old_cycle_reads_as_it_was_opened(world: World, api: Api) -> None:
    factory_id = await world.factory()
    new = await world.open_cycle(factory_id, START)
    old_id = new["id"]
    await as_if_opened_before(api, old_id)
    old = ok(await world.advisor.get(f"/cycles/{old_id}"))
    assert old["schedule_rules"] == "2024-01-01"
    m = milestones(old)
    assert (m["assessment"]["window_start"], m["assessment"]["window_end"]) == (
        "2025-04-15",
        "2025-06-14",
    )
    # What did not change between the versions reads the same.
    assert m["assessment_report_release"]["window_end"] == "2025-06-14"
    assert m["progress_report_1"]["due"] == "2025-06-14"
    following = await world.open_cycle(factory_id, date(2026, 1, 15))
    assert following["schedule_rules"] == "2026-11-29"
    assert milestones(following)["assessment"]["window_end"] == "2026-05-14"


@pytest.fixture
async def scratch_database() -> AsyncIterator[str]:
    name = f"bwt_cycles_migration_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _pg_url(name)
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.mark.postgres
async def test_the_migration_keeps_existing_cycles_on_their_schedule(
    scratch_database: str,
) -> None:
    await asyncio.to_thread(upgrade, "cycles", scratch_database, "cycles_outbox")
    dsn = scratch_database.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO cycle (id, factory_id, number, country, start_date, end_date, "
            "assessment_skipped, training_participant_days, released_documents, opened_by, "
            "opened_at) VALUES ('cyc_old', 'fac_1', 1, 'BD', '2025-01-15', '2026-01-14', false, "
            "20, '[]', 'advisor', now())"
        )
        await asyncio.to_thread(upgrade, "cycles", scratch_database, "head")
        assert (
            await connection.fetchval("SELECT schedule_rules FROM cycle WHERE id = 'cyc_old'")
            == "2024-01-01"
        )
        # No default remains: a new cycle must say which rules scheduled it.
        with pytest.raises(asyncpg.NotNullViolationError):
            await connection.execute(
                "INSERT INTO cycle (id, factory_id, number, country, start_date, end_date, "
                "assessment_skipped, training_participant_days, released_documents, "
                "opened_by, opened_at) VALUES ('cyc_new', 'fac_1', 2, 'BD', '2026-01-15', "
                "'2027-01-14', false, 20, '[]', 'advisor', now())"
            )
    finally:
        await connection.close()
