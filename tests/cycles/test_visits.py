"""Scheduling, recording, listing and cancelling visits; milestone status from visits and
from documents released in reports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.cycles.world import World, days_ago, milestones, today
from tests.helpers import ok


class TestSchedule:
    async def test_assessment_two_assessors_two_days(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        visit = await world.visit(cycle["id"], "assessment", date(2025, 4, 22))
        assert visit["id"].startswith("vis_")
        assert (visit["type"], visit["status"]) == ("assessment", "scheduled")
        assert (visit["date"], visit["end_date"]) == ("2025-04-22", "2025-04-23")
        assert visit["assessors"] == ["Assessor A", "Assessor B"]

    @pytest.mark.parametrize(
        ("body", "rule"),
        [
            ({"type": "assessment", "date": "2025-04-14"}, "assessment_window"),
            ({"type": "assessment", "date": "2025-05-14"}, "assessment_window"),  # day 2: month 5
            ({"type": "assessment", "date": "2025-04-22", "assessors": ["A"]}, "two_assessors"),
            ({"type": "advisory", "date": "2025-01-14"}, "visit_in_cycle"),
            ({"type": "advisory", "date": "2026-01-15"}, "visit_in_cycle"),
        ],
    )
    async def test_outside_the_rules_is_422_naming_the_rule(
        self, world: World, body: dict[str, str], rule: str
    ) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        reply = await world.advisor.post(f"/cycles/{cycle['id']}/visits", json=body)
        assert reply.status_code == 422, reply.text
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.json()["rule"] == rule

    async def test_one_assessment_per_cycle(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        first = await world.visit(cycle["id"], "assessment", date(2025, 4, 22))
        reply = await world.advisor.post(
            f"/cycles/{cycle['id']}/visits", json={"type": "assessment", "date": "2025-05-02"}
        )
        assert reply.json()["rule"] == "one_assessment_per_cycle"
        ok(await world.advisor.post(f"/cycles/{cycle['id']}/visits/{first['id']}/cancel"))
        await world.visit(cycle["id"], "assessment", date(2025, 5, 2))

    async def test_first_cycle_initial_phase_and_yearly_advisory_limits(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        for day in (date(2025, 1, 20), date(2025, 2, 20), date(2025, 3, 20)):
            await world.visit(cycle["id"], "advisory", day)
        fourth = await world.advisor.post(
            f"/cycles/{cycle['id']}/visits", json={"type": "advisory", "date": "2025-04-14"}
        )
        assert fourth.json()["rule"] == "initial_advisory_visits"
        for month in range(5, 10):  # visits 4..8 of the year, after month 3
            await world.visit(cycle["id"], "advisory", date(2025, month, 3))
        ninth = await world.advisor.post(
            f"/cycles/{cycle['id']}/visits", json={"type": "advisory", "date": "2025-11-03"}
        )
        assert ninth.json()["rule"] == "advisory_visits_per_year"
        assert "6-8" in ninth.json()["detail"]

    async def test_advisor_names_the_buyer_of_a_joint_visit(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        missing = await world.advisor.post(
            f"/cycles/{cycle['id']}/visits", json={"type": "joint_advisory", "date": "2025-05-02"}
        )
        assert missing.status_code == 422
        visit = await world.visit(
            cycle["id"],
            "joint_advisory",
            date(2025, 5, 2),
            buyer_org="brand-1",
            note="Roles agreed",
        )
        assert (visit["buyer_org"], visit["note"]) == ("brand-1", "Roles agreed")
        stray = await world.advisor.post(
            f"/cycles/{cycle['id']}/visits",
            json={"type": "advisory", "date": "2025-05-03", "buyer_org": "brand-1"},
        )
        assert stray.status_code == 422

    async def test_unknown_type_and_cycle(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        wrong = await world.advisor.post(
            f"/cycles/{cycle['id']}/visits", json={"type": "audit", "date": "2025-05-02"}
        )
        assert wrong.status_code == 422
        missing = await world.advisor.post(
            "/cycles/cyc_none/visits", json={"type": "advisory", "date": "2025-05-02"}
        )
        assert missing.status_code == 404

    async def test_factory_cannot_schedule(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        factory = world.cycles("factory", factory_id)
        reply = await factory.post(
            f"/cycles/{cycle['id']}/visits", json={"type": "advisory", "date": "2025-02-02"}
        )
        assert reply.status_code == 403


class TestComplete:
    async def test_record_on_the_planned_day_or_another(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        planned = await world.visit(cycle["id"], "advisory", date(2025, 2, 3))
        done = ok(
            await world.advisor.post(
                f"/cycles/{cycle['id']}/visits/{planned['id']}/complete",
                json={"date": "2025-02-05", "note": "Committee formed"},
            )
        )
        assert (done["status"], done["date"], done["note"]) == (
            "completed",
            "2025-02-05",
            "Committee formed",
        )
        assert done["completed_at"] is not None
        again = await world.advisor.post(f"/cycles/{cycle['id']}/visits/{planned['id']}/complete")
        assert again.status_code == 409

    async def test_not_before_it_happens(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, days_ago(20))
        planned = await world.visit(cycle["id"], "advisory", today() + timedelta(days=3))
        reply = await world.advisor.post(f"/cycles/{cycle['id']}/visits/{planned['id']}/complete")
        assert reply.status_code == 422
        assert reply.json()["rule"] == "visit_not_in_future"

    async def test_assessment_needs_both_assessors_named(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        planned = await world.visit(cycle["id"], "assessment", date(2025, 4, 22), assessors=None)
        url = f"/cycles/{cycle['id']}/visits/{planned['id']}/complete"
        refused = await world.advisor.post(url, json={"assessors": ["Only one"]})
        assert refused.json()["rule"] == "two_assessors"
        done = ok(await world.advisor.post(url, json={"assessors": ["A. Rahman", "S. Akter"]}))
        assert done["assessors"] == ["A. Rahman", "S. Akter"]

    async def test_unknown_visit(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        reply = await world.advisor.post(f"/cycles/{cycle['id']}/visits/vis_none/complete")
        assert reply.status_code == 404

    async def test_cancelled_is_final(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        planned = await world.visit(cycle["id"], "advisory", date(2025, 2, 3))
        base = f"/cycles/{cycle['id']}/visits/{planned['id']}"
        assert ok(await world.advisor.post(f"{base}/cancel"))["status"] == "cancelled"
        assert (await world.advisor.post(f"{base}/cancel")).status_code == 409
        assert (await world.advisor.post(f"{base}/complete")).status_code == 409


class TestList:
    async def test_by_date_with_paging(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        for day in (date(2025, 3, 1), date(2025, 1, 20), date(2025, 2, 10)):
            await world.visit(cycle["id"], "advisory", day)
        first = ok(await world.advisor.get(f"/cycles/{cycle['id']}/visits", params={"limit": 2}))
        assert [v["date"] for v in first["items"]] == ["2025-01-20", "2025-02-10"]
        rest = ok(
            await world.advisor.get(
                f"/cycles/{cycle['id']}/visits", params={"cursor": first["next_cursor"]}
            )
        )
        assert [v["date"] for v in rest["items"]] == ["2025-03-01"]
        assert rest["next_cursor"] is None


class TestMilestoneStatus:
    async def test_status_follows_visits_and_released_documents(self, world: World) -> None:
        factory_id = await world.factory()
        start = days_ago(400)  # a whole cycle in the past: every milestone is done or overdue
        cycle = await world.open_cycle(factory_id, start)
        cid = cycle["id"]
        m = milestones(cycle)
        assert {code: m[code]["status"] for code in m} == dict.fromkeys(m, "overdue")

        for offset in (10, 40):
            await world.visit(cid, "advisory", start + timedelta(days=offset), complete=True)
        assessed_on = start + timedelta(days=100)
        await world.visit(cid, "assessment", assessed_on, complete=True)
        for offset in (130, 180, 240, 300):
            await world.visit(cid, "advisory", start + timedelta(days=offset), complete=True)
        m = milestones(ok(await world.advisor.get(f"/cycles/{cid}")))
        assert m["initial_advisory"]["status"] == "done"
        assert m["initial_advisory"]["visits_completed"] == 2
        assert m["assessment"]["status"] == "done"
        assert m["assessment"]["date"] == assessed_on.isoformat()
        assert (
            m["assessment_report_release"]["due"] == (assessed_on + timedelta(days=30)).isoformat()
        )
        assert m["post_assessment_advisory"]["status"] == "done"
        for code in ("assessment_report_release", "progress_report_1", "progress_report_2"):
            assert m[code]["status"] == "overdue"

        await world.release(factory_id, 1, "assessment")
        await world.release(factory_id, 1, "progress_report_1")
        await world.release(factory_id, 1, "progress_report_2")
        m = milestones(ok(await world.advisor.get(f"/cycles/{cid}")))
        assert {code: m[code]["status"] for code in m} == dict.fromkeys(m, "done")

    async def test_upcoming_and_due(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, days_ago(95))  # assessment window is open
        m = milestones(cycle)
        assert m["initial_advisory"]["status"] == "overdue"  # no visit in months 1-3
        assert m["assessment"]["status"] == "due"
        assert m["progress_report_1"]["status"] == "upcoming"
        assert m["progress_report_2"]["status"] == "upcoming"
