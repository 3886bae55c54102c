"""Report documents: who drafts which kind, who sees drafts, release, reading."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ADVISOR_ORG, ok
from tests.reports.world import FINDINGS, World


def kinds(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["kind"], d["status"]) for d in page["items"]]


class TestCreateReport:
    async def test_advisor_drafts_an_assessment_with_findings(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id, title="Assessment 2026")
        assert report["kind"] == "assessment"
        assert report["status"] == "draft"
        assert report["released_at"] is None
        assert [f["question"] for f in report["findings"]] == [f["question"] for f in FINDINGS]
        assert all(f["id"] for f in report["findings"])

    @pytest.mark.parametrize("kind", ["progress_report_2", "advisory_log"])
    async def test_advisor_drafts_pr2_and_advisory_log(self, world: World, kind: str) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id, kind=kind, body="Notes")
        assert report["body"] == "Notes"
        assert report["findings"] is None

    async def test_factory_drafts_its_pr1_only(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        factory = world.reports("factory", factory_id)
        path = f"/factories/{factory_id}/cycles/1/reports"
        ok(await factory.post(path, json={"kind": "progress_report_1", "title": "PR1"}), 201)
        for kind in ("assessment", "progress_report_2", "advisory_log"):
            reply = await factory.post(path, json={"kind": kind, "title": "x"})
            assert reply.status_code == 403, kind
        # Advisors do not write PR1.
        reply = await world.advisor.post(path, json={"kind": "progress_report_1", "title": "x"})
        assert reply.status_code == 403

    async def test_another_factory_gets_404(self, world: World) -> None:
        factory_id = await world.factory()
        other = await world.factory()
        await world.open_cycle(factory_id)
        reply = await world.reports("factory", other).post(
            f"/factories/{factory_id}/cycles/1/reports",
            json={"kind": "progress_report_1", "title": "x"},
        )
        assert reply.status_code == 404

    async def test_buyers_cannot_draft(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("participant", "buyer-1")
        reply = await world.reports("participant", "buyer-1").post(
            f"/factories/{factory_id}/cycles/1/reports", json={"kind": "advisory_log", "title": "x"}
        )
        assert reply.status_code == 403

    async def test_one_assessment_per_cycle_many_log_entries(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        await world.draft(factory_id)
        reply = await world.advisor.post(
            f"/factories/{factory_id}/cycles/1/reports",
            json={"kind": "assessment", "title": "again"},
        )
        assert reply.status_code == 409
        for _ in range(3):
            await world.draft(factory_id, kind="advisory_log")

    async def test_findings_only_on_assessments_and_validated(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        path = f"/factories/{factory_id}/cycles/1/reports"
        reply = await world.advisor.post(
            path, json={"kind": "progress_report_2", "title": "x", "findings": FINDINGS}
        )
        assert reply.status_code == 422
        bad = {**FINDINGS[0], "compliant": "maybe"}
        reply = await world.advisor.post(
            path, json={"kind": "assessment", "title": "x", "findings": [bad]}
        )
        assert reply.status_code == 422
        reply = await world.advisor.post(path, json={"kind": "memo", "title": "x"})
        assert reply.status_code == 422
        reply = await world.advisor.post(path, json={"kind": "advisory_log", "title": "a\x00b"})
        assert reply.status_code == 422

    async def test_unknown_cycle_is_404(self, world: World) -> None:
        factory_id = await world.factory()
        reply = await world.advisor.post(
            f"/factories/{factory_id}/cycles/3/reports", json={"kind": "assessment", "title": "x"}
        )
        assert reply.status_code == 404


class TestVisibility:
    async def test_drafts_for_advisors_and_own_pr1_draft_for_the_factory(
        self, world: World
    ) -> None:
        factory_id, released = await world.readable_factory("participant", "buyer-1")
        draft_log = await world.draft(factory_id, kind="advisory_log")
        pr1 = await world.draft(factory_id, kind="progress_report_1")
        path = f"/factories/{factory_id}/cycles/1/reports"

        advisor_view = kinds(ok(await world.advisor.get(path)))
        assert sorted(advisor_view) == [
            ("advisory_log", "draft"),
            ("assessment", "released"),
            ("progress_report_1", "draft"),
        ]
        factory_view = kinds(ok(await world.reports("factory", factory_id).get(path)))
        assert sorted(factory_view) == [("assessment", "released"), ("progress_report_1", "draft")]
        buyer = world.reports("participant", "buyer-1")
        assert kinds(ok(await buyer.get(path))) == [("assessment", "released")]

        # One by one: drafts are 404 to whoever may not see them.
        assert (await buyer.get(f"/reports/{draft_log['id']}")).status_code == 404
        assert (await buyer.get(f"/reports/{pr1['id']}")).status_code == 404
        factory = world.reports("factory", factory_id)
        assert (await factory.get(f"/reports/{draft_log['id']}")).status_code == 404
        assert ok(await factory.get(f"/reports/{pr1['id']}"))["status"] == "draft"
        assert ok(await buyer.get(f"/reports/{released['id']}"))["status"] == "released"

    async def test_buyer_without_access_gets_404_with_tpa_403(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.released_assessment(factory_id)
        buyer = world.reports("partner", "brand-1")
        assert (await buyer.get(f"/reports/{report['id']}")).status_code == 404
        path = f"/factories/{factory_id}/cycles/1/reports"
        assert (await buyer.get(path)).status_code == 404
        await world.grant_tpa("partner", "brand-1", factory_id)
        reply = await buyer.get(f"/reports/{report['id']}")
        assert reply.status_code == 403
        assert "Unlock" in reply.json()["detail"]

    async def test_other_factory_gets_404(self, world: World) -> None:
        factory_id = await world.factory()
        other = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.released_assessment(factory_id)
        reply = await world.reports("factory", other).get(f"/reports/{report['id']}")
        assert reply.status_code == 404

    async def test_unknown_report_and_bad_ids(self, world: World) -> None:
        assert (await world.advisor.get("/reports/doc_NOPE")).status_code == 404
        assert (await world.advisor.get("/reports/bad%20id")).status_code == 422

    async def test_advisor_of_another_programme_is_refused(self, world: World) -> None:
        factory_id = await world.factory(country="BD")
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id)
        advisor = world.reports("advisor", ADVISOR_ORG, countries=["VN"])
        assert (await advisor.get(f"/reports/{report['id']}")).status_code == 403


class TestUpdateSubmitRelease:
    async def test_update_a_draft(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id)
        reply = await world.advisor.patch(
            f"/reports/{report['id']}",
            json={"title": "Assessment (final)", "findings": FINDINGS[:1], "body": "Summary"},
        )
        updated = ok(reply)
        assert updated["title"] == "Assessment (final)"
        assert updated["body"] == "Summary"
        assert len(updated["findings"]) == 1

    async def test_released_reports_are_final(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.released_assessment(factory_id)
        reply = await world.advisor.patch(f"/reports/{report['id']}", json={"title": "x"})
        assert reply.status_code == 409

    async def test_factory_cannot_edit_advisor_documents(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.released_assessment(factory_id)
        reply = await world.reports("factory", factory_id).patch(
            f"/reports/{report['id']}", json={"title": "x"}
        )
        assert reply.status_code == 403

    async def test_pr1_draft_submit_release(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("participant", "buyer-1")
        factory = world.reports("factory", factory_id)
        pr1 = await world.draft(factory_id, kind="progress_report_1", body="Draft")
        ok(await factory.patch(f"/reports/{pr1['id']}", json={"body": "Progress so far"}))
        # Not submitted: the advisor cannot release it yet.
        reply = await world.advisor.post(f"/reports/{pr1['id']}/release")
        assert reply.status_code == 409
        submitted = ok(await factory.post(f"/reports/{pr1['id']}/submit"))
        assert submitted["submitted_at"] is not None
        assert ok(await factory.post(f"/reports/{pr1['id']}/submit")) == submitted
        # Submitted reports are final for the factory.
        assert (await factory.patch(f"/reports/{pr1['id']}", json={"body": "x"})).status_code == 409
        released = await world.release(pr1["id"])
        assert released["status"] == "released"
        buyer = world.reports("participant", "buyer-1")
        assert ok(await buyer.get(f"/reports/{pr1['id']}"))["body"] == "Progress so far"
        assert (await factory.post(f"/reports/{pr1['id']}/submit")).status_code == 409

    async def test_only_factories_submit_pr1(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id, kind="progress_report_2")
        assert (await world.advisor.post(f"/reports/{report['id']}/submit")).status_code == 403

    async def test_release_twice_is_a_no_op(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id)
        first = await world.release(report["id"])
        again = await world.release(report["id"])
        assert again["released_at"] == first["released_at"]
        plan = ok(await world.advisor.get(f"/factories/{factory_id}/cycles/1/improvement-plan"))
        assert len(plan["items"]) == 2  # the two non-compliances, once

    async def test_only_advisors_release(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id)
        reply = await world.reports("factory", factory_id).post(f"/reports/{report['id']}/release")
        assert reply.status_code == 403

    async def test_release_makes_it_visible_to_the_factory(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.draft(factory_id, kind="progress_report_2")
        factory = world.reports("factory", factory_id)
        assert (await factory.get(f"/reports/{report['id']}")).status_code == 404
        await world.release(report["id"])
        assert ok(await factory.get(f"/reports/{report['id']}"))["status"] == "released"
