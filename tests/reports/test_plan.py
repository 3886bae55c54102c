"""The live improvement plan: assessment findings join it on release; the factory and
advisors edit it (with history); buyers with access read it."""

from __future__ import annotations

from typing import Any

from tests.helpers import ok
from tests.reports.world import World


def plan_path(factory_id: str, cycle: int = 1) -> str:
    return f"/factories/{factory_id}/cycles/{cycle}/improvement-plan"


class TestPlan:
    async def test_release_of_the_assessment_adds_its_non_compliances(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        assert ok(await world.advisor.get(plan_path(factory_id)))["items"] == []
        report = await world.released_assessment(factory_id)
        plan = ok(await world.advisor.get(plan_path(factory_id)))
        non_compliant = {f["id"] for f in report["findings"] if not f["compliant"]}
        assert {i["finding_id"] for i in plan["items"]} == non_compliant
        item = next(i for i in plan["items"] if "Emergency exits" in i["title"])
        assert item["source"] == "assessment"
        assert item["status"] == "open"
        assert item["detail"] == "Exit B locked during shifts"
        assert [h["action"] for h in item["history"]] == ["created"]

    async def test_factory_and_advisor_add_and_edit_with_history(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        factory = world.reports("factory", factory_id)
        item = ok(
            await factory.post(
                plan_path(factory_id) + "/items",
                json={
                    "title": "Bipartite committee elections",
                    "owner": "HR manager",
                    "due_date": "2026-06-30",
                },
            ),
            201,
        )
        assert item["source"] == "self_diagnosis"
        edited = ok(
            await world.advisor.patch(
                f"/improvement-plan-items/{item['id']}",
                json={"status": "in_progress", "due_date": "2026-07-15"},
            )
        )
        assert edited["status"] == "in_progress"
        done = ok(
            await factory.patch(f"/improvement-plan-items/{item['id']}", json={"status": "done"})
        )
        assert [(h["action"], h["actor_role"], h["changes"]) for h in done["history"]] == [
            ("created", "factory", {}),
            (
                "updated",
                "advisor",
                {"status": ["open", "in_progress"], "due_date": ["2026-06-30", "2026-07-15"]},
            ),
            ("updated", "factory", {"status": ["in_progress", "done"]}),
        ]
        # A change to nothing records nothing.
        same = ok(
            await factory.patch(f"/improvement-plan-items/{item['id']}", json={"status": "done"})
        )
        assert len(same["history"]) == 3
        # Owner and due date can be cleared; title and status cannot be emptied.
        cleared = ok(
            await factory.patch(
                f"/improvement-plan-items/{item['id']}",
                json={"owner": None, "title": None, "status": None},
            )
        )
        assert cleared["owner"] is None
        assert cleared["title"] == "Bipartite committee elections"
        assert cleared["status"] == "done"

    async def test_buyers_with_access_read_and_cannot_edit(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("partner", "brand-1")
        buyer = world.reports("partner", "brand-1")
        plan = ok(await buyer.get(plan_path(factory_id)))
        assert len(plan["items"]) == 2
        item_id = plan["items"][0]["id"]
        reply = await buyer.patch(f"/improvement-plan-items/{item_id}", json={"status": "done"})
        assert reply.status_code == 403
        reply = await buyer.post(plan_path(factory_id) + "/items", json={"title": "x"})
        assert reply.status_code == 403

    async def test_without_access_it_does_not_exist(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("partner", "brand-1")
        plan: dict[str, Any] = ok(await world.advisor.get(plan_path(factory_id)))
        item_id = plan["items"][0]["id"]
        stranger = world.reports("participant", "stranger")
        other_factory = world.reports("factory", await world.factory())
        for outsider in (stranger, other_factory):
            assert (await outsider.get(plan_path(factory_id))).status_code == 404
        reply = await other_factory.patch(f"/improvement-plan-items/{item_id}", json={"owner": "x"})
        assert reply.status_code == 404
        # Buyers never edit, whatever the item: the role gate answers first (it reveals nothing).
        reply = await stranger.patch(f"/improvement-plan-items/{item_id}", json={"owner": "x"})
        assert reply.status_code == 403
        reply = await world.advisor.patch("/improvement-plan-items/ipi_NOPE", json={"owner": "x"})
        assert reply.status_code == 404

    async def test_validation(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        path = plan_path(factory_id) + "/items"
        for body in (
            {},
            {"title": ""},
            {"title": "x", "status": "finished"},
            {"title": "x", "due_date": "soon"},
            {"title": "x", "source": "rumour"},
            {"title": "x", "colour": "red"},
        ):
            assert (await world.advisor.post(path, json=body)).status_code == 422, body
