"""Time-based milestone events: due in 7 days and overdue, each sent once, by a job on
durable rows that two replicas may run at the same time; the unannounced assessment's
alerts reach advisors only."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.cycles import jobs
from services.cycles.clients import ReportsClient, reports_client
from tests.cycles.world import World, days_ago, milestones
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import feed, take_in


def job(api: Api) -> Any:
    return api.apps["cycles"].state.sessionmaker


def reports(api: Api) -> ReportsClient:
    """What the job asks for a factory's TPA holders: the cycles app's reports client."""
    return reports_client(api.apps["cycles"])


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
    assert await jobs.send_due(job(api), reports(api), today=pr1 - timedelta(days=8)) >= 0
    before = await milestone_events(api, "factory", factory_id)
    assert ("milestone.due_soon", "progress_report_1", pr1.isoformat()) not in before
    await jobs.send_due(job(api), reports(api), today=pr1 - timedelta(days=7))
    await jobs.send_due(job(api), reports(api), today=pr1 - timedelta(days=7))  # again: nothing new
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
    await jobs.send_due(job(api), reports(api), today=end + timedelta(days=1))
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
    await jobs.send_due(job(api), reports(api), today=end_month_4 + timedelta(days=1))
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
    await jobs.send_due(job(api), reports(api), today=today)
    assert await milestone_events(api, "advisor", "bw") == []  # the past stays quiet
    end = date.fromisoformat(cycle["end_date"])
    await jobs.send_due(job(api), reports(api), today=end + timedelta(days=1))
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
    counts = await asyncio.gather(
        *(jobs.send_due(job(api), reports(api), today=day, batch=3) for _ in range(2))
    )
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


# --- buyers holding an approved TPA (they read milestone states in GET /cycles/{id}) -------


async def tpa_buyers(world: World, factory_id: str) -> None:
    """brand-1 approved; buyer-2 pending; buyer-3 approved then revoked; buyer-4 never asked."""
    await world.approve_tpa(factory_id, buyer="brand-1", role="partner")
    pending = world.api.client("reports", role="participant", org="buyer-2")
    ok(await pending.post("/access-requests", json={"factory_id": factory_id}), 201)
    revoked = world.api.client("reports", role="participant", org="buyer-3")
    request = ok(await revoked.post("/access-requests", json={"factory_id": factory_id}), 201)
    factory = world.api.client("reports", role="factory", org=factory_id)
    ok(await factory.post(f"/access-requests/{request['id']}/approve"))
    ok(await factory.post(f"/access-requests/{request['id']}/revoke"))


NO_TPA = [("participant", "buyer-2"), ("participant", "buyer-3"), ("partner", "buyer-4")]


async def test_buyers_with_an_approved_tpa_hear_of_due_and_overdue_milestones(
    world: World, api: Api
) -> None:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, date(2030, 1, 15))
    await tpa_buyers(world, factory_id)  # after the opening: asked when the alert is sent
    pr1 = date.fromisoformat(milestones(cycle)["progress_report_1"]["due"])
    await jobs.send_due(job(api), reports(api), today=pr1 - timedelta(days=7))
    due_soon = ("milestone.due_soon", "progress_report_1", pr1.isoformat())
    assert (await milestone_events(api, "partner", "brand-1")).count(due_soon) == 1

    end = date.fromisoformat(cycle["end_date"])
    await jobs.send_due(job(api), reports(api), today=end + timedelta(days=1))
    await jobs.send_due(job(api), reports(api), today=end + timedelta(days=1))  # nothing new
    brand = await milestone_events(api, "partner", "brand-1")
    factory = await milestone_events(api, "factory", factory_id)
    assert brand == factory  # what the factory hears of its milestones, in the same order
    overdue = [m for t, m, _ in brand if t == "milestone.overdue"]
    assert "progress_report_2" in overdue and len(overdue) == len(set(overdue))
    assert "assessment" not in {m for _, m, _ in brand}  # unannounced: advisors only
    advisor = {(t, m) for t, m, _ in await milestone_events(api, "advisor", "bw")}
    assert ("milestone.overdue", "assessment") in advisor
    for role, org in NO_TPA:
        assert await milestone_events(api, role, org) == [], org
    # what the buyer reads of the cycle: every milestone it heard of is one it sees
    shown = milestones(ok(await world.cycles("partner", "brand-1").get(f"/cycles/{cycle['id']}")))
    for _, code, due in brand:
        assert shown[code].get("notice") is None and due is not None


async def test_a_revoked_tpa_hears_no_more(world: World, api: Api) -> None:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, date(2030, 1, 15))
    reports_api = api.client("reports", role="partner", org="brand-1")
    request = ok(await reports_api.post("/access-requests", json={"factory_id": factory_id}), 201)
    factory = api.client("reports", role="factory", org=factory_id)
    ok(await factory.post(f"/access-requests/{request['id']}/approve"))
    pr1 = date.fromisoformat(milestones(cycle)["progress_report_1"]["due"])
    await jobs.send_due(job(api), reports(api), today=pr1 - timedelta(days=7))
    before = await milestone_events(api, "partner", "brand-1")
    assert ("milestone.due_soon", "progress_report_1", pr1.isoformat()) in before
    ok(await factory.post(f"/access-requests/{request['id']}/revoke"))
    await jobs.send_due(job(api), reports(api), today=pr1 + timedelta(days=60))
    assert await milestone_events(api, "partner", "brand-1") == before
    later = await milestone_events(api, "factory", factory_id)
    assert ("milestone.overdue", "progress_report_1", pr1.isoformat()) in later


async def test_a_planned_assessment_changes_nothing_a_buyer_hears(world: World, api: Api) -> None:
    """Two factories with the same schedule, one with its assessment planned: the buyer's
    (and the factory's) milestone events are the same, day after day."""
    start = date(2030, 1, 15)
    quiet, planned = await world.factory(), await world.factory()
    for factory_id in (quiet, planned):
        await world.approve_tpa(factory_id, buyer="brand-1", role="partner")
    await world.open_cycle(quiet, start)
    cycle = await world.open_cycle(planned, start)
    await world.visit(cycle["id"], "assessment", start + timedelta(days=100))
    for day in range(0, 380, 7):  # a due-soon alert has 8 days before it is late
        await jobs.send_due(job(api), reports(api), today=start + timedelta(days=day))
    await take_in(api)
    items = (await feed(api.client("integrations", role="partner", org="brand-1"), limit=500))[
        "items"
    ]
    heard = {
        factory_id: [
            (e["type"], e["data"]["milestone"], e["data"]["due"])
            for e in items
            if e["type"].startswith("milestone.") and e["data"]["factory_id"] == factory_id
        ]
        for factory_id in (quiet, planned)
    }
    # (alerts of one day come in the order of their row ids: compare them as sets)
    assert sorted(heard[quiet]) == sorted(heard[planned]) != []
    assert len(heard[planned]) == len(set(heard[planned]))
    assert "assessment" not in {m for _, m, _ in heard[planned]}


@pytest.mark.parametrize("failure", ["unreachable", "error"])
async def test_an_alert_waits_for_reports_rather_than_leave_buyers_out(
    world: World, api: Api, failure: str
) -> None:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, date(2030, 1, 15))
    await world.approve_tpa(factory_id, buyer="brand-1", role="partner")

    def answer(request: httpx.Request) -> httpx.Response:
        if failure == "unreachable":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(500, json={"detail": "boom"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        down = ReportsClient(http, api.settings, caller="cycles", target="reports")
        end = date.fromisoformat(cycle["end_date"])
        assert await jobs.send_due(job(api), down, today=end + timedelta(days=1)) == 1
    # Only the assessment's alert (advisors only) went out; the others wait, unsent.
    assert await milestone_events(api, "factory", factory_id) == []
    assert await milestone_events(api, "partner", "brand-1") == []
    advisor = await milestone_events(api, "advisor", "bw")
    assert [(t, m) for t, m, _ in advisor] == [("milestone.overdue", "assessment")]
    async with job(api)() as session:
        waiting = await session.scalar(
            sa.text("SELECT count(*) FROM milestone_alert WHERE sent_at IS NULL")
        )
    assert waiting and waiting > 0
    # Reports answers again: the next round sends them, to the buyer too, once each.
    sent = await jobs.send_due(job(api), reports(api), today=end + timedelta(days=1))
    assert sent == 5  # the other milestones' overdue alerts
    brand = await milestone_events(api, "partner", "brand-1")
    assert brand == await milestone_events(api, "factory", factory_id)
    assert len(brand) == 5 and {t for t, _, _ in brand} == {"milestone.overdue"}
