"""Time-based milestone events: due in 7 days and overdue, each sent once, by a job on
durable rows that two replicas may run at the same time; the unannounced assessment's
alerts reach advisors only."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.cycles import jobs
from tests.cycles.world import World, days_ago, milestones
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import feed, take_in


def job(api: Api) -> Any:
    return api.apps["cycles"].state.sessionmaker


async def milestone_events(api: Api, role: str, org: str) -> list[tuple[str, str, Any]]:
    await take_in(api)
    items = (await feed(api.client("integrations", role=role, org=org), limit=500))["items"]
    return [
        (e["type"], e["data"]["milestone"], e["data"]["due"])
        for e in items
        if e["type"].startswith("milestone.")
    ]


async def test_due_soon_once_on_its_day_to_factory_and_advisors(world: World, api: Api) -> None:
    factory_id = await world.factory()
    start = date(2030, 1, 15)
    cycle = await world.open_cycle(factory_id, start)
    pr1 = date.fromisoformat(milestones(cycle)["progress_report_1"]["due"])
    assert await jobs.send_due(job(api), today=pr1 - timedelta(days=8)) >= 0
    before = await milestone_events(api, "factory", factory_id)
    assert ("milestone.due_soon", "progress_report_1", pr1.isoformat()) not in before
    await jobs.send_due(job(api), today=pr1 - timedelta(days=7))
    await jobs.send_due(job(api), today=pr1 - timedelta(days=7))  # again: nothing new
    seen = await milestone_events(api, "factory", factory_id)
    assert seen.count(("milestone.due_soon", "progress_report_1", pr1.isoformat())) == 1
    advisor = await milestone_events(api, "advisor", "bw")
    assert advisor.count(("milestone.due_soon", "progress_report_1", pr1.isoformat())) == 1
    assert await milestone_events(api, "factory", "fac_other") == []
    assert await milestone_events(api, "partner", "brand-1") == []


async def test_the_assessment_alerts_reach_advisors_only(world: World, api: Api) -> None:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, date(2030, 1, 15))
    end = date.fromisoformat(cycle["end_date"])
    await jobs.send_due(job(api), today=end + timedelta(days=1))
    factory = {m for _, m, _ in await milestone_events(api, "factory", factory_id)}
    advisor = await milestone_events(api, "advisor", "bw")
    assert "assessment" not in factory
    assert "progress_report_1" in factory
    due = milestones(ok(await world.advisor.get(f"/cycles/{cycle['id']}")))["assessment"]["due"]
    assert ("milestone.overdue", "assessment", due) in advisor


async def test_a_milestone_done_in_time_sends_no_overdue(world: World, api: Api) -> None:
    factory_id = await world.factory()
    start = days_ago(95)
    cycle = await world.open_cycle(factory_id, start)
    held = await world.visit(cycle["id"], "assessment", start + timedelta(days=92))
    ok(await world.advisor.post(f"/cycles/{cycle['id']}/visits/{held['id']}/complete"))
    end_month_4 = date.fromisoformat(milestones(cycle)["assessment"]["window_end"])
    await jobs.send_due(job(api), today=end_month_4 + timedelta(days=1))
    kinds = {(t, m) for t, m, _ in await milestone_events(api, "advisor", "bw")}
    assert ("milestone.overdue", "assessment") not in kinds


async def test_cycles_opened_before_the_scheduler_get_rows_without_old_alerts(
    world: World, api: Api
) -> None:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, days_ago(200))
    async with job(api)() as session:
        await session.execute(sa.text("DELETE FROM milestone_alert"))
        await session.commit()
    today = days_ago(0)
    assert await jobs.plan_missing(job(api), today=today) == 1
    assert await jobs.plan_missing(job(api), today=today) == 0
    await jobs.send_due(job(api), today=today)
    assert await milestone_events(api, "advisor", "bw") == []  # the past stays quiet
    end = date.fromisoformat(cycle["end_date"])
    await jobs.send_due(job(api), today=end + timedelta(days=1))
    assert ("milestone.overdue", "progress_report_2") in {
        (t, m) for t, m, _ in await milestone_events(api, "advisor", "bw")
    }


@pytest.mark.postgres
async def test_two_replicas_send_each_alert_once(world: World, api: Api) -> None:
    cycles = []
    for _ in range(4):
        factory_id = await world.factory()
        cycles.append(await world.open_cycle(factory_id, date(2030, 1, 15)))
    day = date.fromisoformat(cycles[0]["end_date"]) + timedelta(days=1)
    counts = await asyncio.gather(*(jobs.send_due(job(api), today=day, batch=3) for _ in range(2)))
    async with job(api)() as session:
        rows = (
            await session.execute(
                sa.text(
                    "SELECT subject_id, type, data FROM outbox_event WHERE type LIKE 'milestone.%'"
                )
            )
        ).all()
        unsent = await session.scalar(
            sa.text("SELECT count(*) FROM milestone_alert WHERE sent_at IS NULL")
        )
    keys = [(subject, kind, data) for subject, kind, data in rows]
    assert len(keys) == len(set(keys)) == sum(counts)
    # every milestone of every cycle is overdue that day (nothing was done): one each
    assert len(keys) == 4 * 6 and unsent == 0


async def test_the_process_runs_the_job_when_the_setting_says_so(
    world: World, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id, days_ago(200))  # milestones long due
    app = api.apps["cycles"]
    monkeypatch.setenv("BW_SCHEDULER_SECONDS", "0.05")
    await jobs.start_scheduler(app)
    try:
        for _ in range(100):
            async with job(api)() as session:
                pending = await session.scalar(
                    sa.text(
                        "SELECT count(*) FROM milestone_alert "
                        "WHERE sent_at IS NULL AND fire_on <= CURRENT_DATE"
                    )
                )
            if pending == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await jobs.stop_scheduler(app)
    assert pending == 0
    seen = await milestone_events(api, "factory", factory_id)
    overdue = [m for t, m, _ in seen if t == "milestone.overdue"]
    assert "initial_advisory" in overdue and len(overdue) == len(set(overdue))
