"""Opening cycles and reading them: POST/GET /factories/{id}/cycles, GET /cycles/{id}."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cycles.world import World, days_ago, milestones
from tests.helpers import ADVISOR_ORG, ok
from tests.inprocess import Api

CODES = [
    "initial_advisory",
    "assessment",
    "assessment_report_release",
    "progress_report_1",
    "post_assessment_advisory",
    "progress_report_2",
]


class TestOpenCycle:
    async def test_enrolled_factory_gets_its_schedule(self, world: World, api: Api) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, date(2025, 1, 15))
        assert cycle["id"].startswith("cyc_")
        assert cycle["factory_id"] == factory_id
        assert (cycle["number"], cycle["country"]) == (1, "BD")
        assert (cycle["start_date"], cycle["end_date"]) == ("2025-01-15", "2026-01-14")
        assert [m["code"] for m in cycle["milestones"]] == CODES
        m = milestones(cycle)
        assert (m["assessment"]["window_start"], m["assessment"]["due"]) == (
            "2025-04-15",
            "2025-04-25",
        )
        assert m["assessment"]["window_end"] == "2025-05-14"  # Table 2: end of month 4
        assert m["progress_report_1"]["due"] == "2025-06-14"
        assert cycle["schedule_rules"] == "2026-11-29"
        assert m["progress_report_2"]["due"] == "2025-12-14"
        assert m["initial_advisory"]["visits_min"] == 2
        assert cycle["training_participant_days"] == 20  # eligibility's rule data for BD
        assert cycle["notice"] is None  # advisors see the dates
        # Opening the cycle opened its report cycle in reports.
        reports = api.client("reports", role="advisor", org=ADVISOR_ORG)
        listed = ok(await reports.get(f"/factories/{factory_id}/cycles"))
        assert [c["cycle"] for c in listed["items"]] == [1]

    async def test_numbers_increase_and_cycles_do_not_overlap(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id, date(2024, 1, 31))
        reply = await world.advisor.post(
            f"/factories/{factory_id}/cycles", json={"start_date": "2025-01-30"}
        )
        assert reply.status_code == 422
        assert reply.json()["rule"] == "cycles_do_not_overlap"
        assert "2025-01-30" in reply.json()["detail"]  # 31 Jan 2024 + 12 months - 1 day
        second = await world.open_cycle(factory_id, date(2025, 1, 31))
        assert second["number"] == 2
        assert milestones(second)["initial_advisory"]["visits_min"] == 1

    async def test_not_enrolled_is_a_conflict(self, world: World) -> None:
        factory_id = await world.factory(enrol=False)
        reply = await world.advisor.post(
            f"/factories/{factory_id}/cycles", json={"start_date": "2025-01-15"}
        )
        assert reply.status_code == 409
        assert reply.headers["content-type"] == "application/problem+json"
        assert "not enrolled" in reply.json()["detail"]

    async def test_unknown_factory(self, world: World) -> None:
        reply = await world.advisor.post(
            "/factories/no-such-factory/cycles", json={"start_date": "2025-01-15"}
        )
        assert reply.status_code == 404

    async def test_advisor_outside_the_programme(self, world: World) -> None:
        factory_id = await world.factory(country="BD")
        khmer = world.cycles("advisor", ADVISOR_ORG, countries=["KH"])
        reply = await khmer.post(
            f"/factories/{factory_id}/cycles", json={"start_date": "2025-01-15"}
        )
        assert reply.status_code == 403

    @pytest.mark.parametrize(
        ("role", "org"), [("factory", "f"), ("partner", "b"), ("participant", "p")]
    )
    async def test_only_advisors_open_cycles(self, world: World, role: str, org: str) -> None:
        factory_id = await world.factory()
        client = world.cycles(role, factory_id if role == "factory" else org)
        reply = await client.post(
            f"/factories/{factory_id}/cycles", json={"start_date": "2025-01-15"}
        )
        assert reply.status_code == 403

    @pytest.mark.parametrize("start", ["1999-12-31", "2101-01-01", "2025-02-30", "soon"])
    async def test_start_date_is_validated(self, world: World, start: str) -> None:
        factory_id = await world.factory()
        reply = await world.advisor.post(
            f"/factories/{factory_id}/cycles", json={"start_date": start}
        )
        assert reply.status_code == 422

    async def test_skipping_the_assessment_needs_a_high_performing_classification(
        self, world: World
    ) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id, date(2024, 1, 15))
        reply = await world.advisor.post(
            f"/factories/{factory_id}/cycles",
            json={"start_date": "2025-01-15", "skip_assessment": True},
        )
        assert reply.status_code == 422
        assert reply.json()["rule"] == "high_performing_option"


class TestReadCycles:
    async def test_advisor_lists_cycles_oldest_first_with_paging(self, world: World) -> None:
        factory_id = await world.factory()
        for year in (2022, 2023, 2024):
            await world.open_cycle(factory_id, date(year, 3, 1))
        first = ok(await world.advisor.get(f"/factories/{factory_id}/cycles", params={"limit": 2}))
        assert [c["number"] for c in first["items"]] == [1, 2]
        rest = ok(
            await world.advisor.get(
                f"/factories/{factory_id}/cycles", params={"cursor": first["next_cursor"]}
            )
        )
        assert [c["number"] for c in rest["items"]] == [3]
        assert rest["next_cursor"] is None
        bad = await world.advisor.get(f"/factories/{factory_id}/cycles", params={"cursor": "x"})
        assert bad.status_code == 400

    async def test_factory_reads_its_own_only(self, world: World) -> None:
        mine, theirs = await world.factory(), await world.factory()
        cycle = await world.open_cycle(mine, days_ago(10))
        other = await world.open_cycle(theirs, days_ago(10))
        factory = world.cycles("factory", mine)
        assert ok(await factory.get(f"/cycles/{cycle['id']}"))["id"] == cycle["id"]
        assert [c["id"] for c in ok(await factory.get(f"/factories/{mine}/cycles"))["items"]] == [
            cycle["id"]
        ]
        assert (await factory.get(f"/cycles/{other['id']}")).status_code == 404
        assert (await factory.get(f"/factories/{theirs}/cycles")).status_code == 403

    @pytest.mark.parametrize("role", ["partner", "participant"])
    async def test_buyers_need_an_approved_tpa(self, world: World, role: str) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, days_ago(10))
        buyer = world.cycles(role, "buyer-1")
        assert (await buyer.get(f"/cycles/{cycle['id']}")).status_code == 404
        refused = await buyer.get(f"/factories/{factory_id}/cycles")
        assert refused.status_code == 403
        assert "TPA" in refused.json()["detail"]
        await world.approve_tpa(factory_id, buyer="buyer-1", role=role)
        seen = ok(await buyer.get(f"/cycles/{cycle['id']}"))
        assert seen["notice"] == "unannounced assessment in this cycle"
        assert len(ok(await buyer.get(f"/factories/{factory_id}/cycles"))["items"]) == 1

    async def test_unknown_cycle(self, world: World) -> None:
        assert (await world.advisor.get("/cycles/cyc_nothing")).status_code == 404

    async def test_etag_and_not_modified(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, days_ago(10))
        first = await world.advisor.get(f"/cycles/{cycle['id']}")
        etag = first.headers["etag"]
        again = await world.advisor.get(f"/cycles/{cycle['id']}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.headers["etag"] == etag
        await world.visit(cycle["id"], "advisory", days_ago(5), complete=True)
        changed = await world.advisor.get(f"/cycles/{cycle['id']}", headers={"If-None-Match": etag})
        assert changed.status_code == 200  # a completed visit changes the milestones

    async def test_unknown_query_parameters_are_refused(self, world: World) -> None:
        factory_id = await world.factory()
        reply = await world.advisor.get(f"/factories/{factory_id}/cycles", params={"limt": 1})
        assert reply.status_code == 422
