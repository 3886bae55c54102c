"""The internal endpoints the cycles service calls (services/INTERNAL_API.md)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import ok
from tests.reports.world import World


@pytest.fixture
def service(world: World) -> httpx.AsyncClient:
    return world.api.client("reports", role="service")


class TestInternal:
    async def test_user_tokens_are_refused(self, world: World) -> None:
        for role in ("advisor", "partner", "factory"):
            reply = await world.reports(role, "x").post(
                "/internal/report-cycles", json={"factory_id": "f", "cycle": 1, "country": "BD"}
            )
            assert reply.status_code in (401, 403), role
        assert (await world.api.client("reports").get("/internal/access")).status_code == 401

    async def test_open_report_cycle_is_idempotent(
        self, world: World, service: httpx.AsyncClient
    ) -> None:
        body = {"factory_id": "fac-internal", "cycle": 1, "country": "kh"}
        opened = ok(await service.post("/internal/report-cycles", json=body), 201)
        assert (opened["factory_id"], opened["cycle"], opened["country"]) == (
            "fac-internal",
            1,
            "KH",
        )
        again = ok(await service.post("/internal/report-cycles", json=body))
        assert again == opened
        listed = ok(await world.advisor.get("/factories/fac-internal/cycles"))
        assert [c["id"] for c in listed["items"]] == [opened["id"]]

    async def test_access_summary(self, world: World, service: httpx.AsyncClient) -> None:
        factory_id, _ = await world.readable_factory("partner", "brand-1")
        await world.grant_tpa("participant", "brand-2", factory_id)
        ok(
            await world.reports("partner", "brand-1").post(
                "/shares", json={"factory_id": factory_id, "cycle": 1, "with_org": "brand-2"}
            ),
            201,
        )
        params = {"org": "brand-1", "factory_id": factory_id}
        assert ok(await service.get("/internal/access", params=params)) == {
            "org": "brand-1",
            "factory_id": factory_id,
            "tpa_status": "approved",
            "unlocked_cycles": [1],
            "shared_cycles": [],
        }
        params = {"org": "brand-2", "factory_id": factory_id}
        summary = ok(await service.get("/internal/access", params=params))
        assert (summary["unlocked_cycles"], summary["shared_cycles"]) == ([], [1])
        params = {"org": "nobody", "factory_id": factory_id}
        assert ok(await service.get("/internal/access", params=params))["tpa_status"] is None
        assert (await service.get("/internal/access", params={"org": "x"})).status_code == 422

    async def test_documents_and_assessment(self, world: World, service: httpx.AsyncClient) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        draft = await world.draft(factory_id)
        base = f"/internal/factories/{factory_id}/cycles/1"
        [document] = ok(await service.get(f"{base}/documents"))["documents"]
        assert (document["id"], document["kind"], document["status"]) == (
            draft["id"],
            "assessment",
            "draft",
        )
        unreleased = ok(await service.get(f"{base}/assessment"))
        assert (unreleased["released"], unreleased["findings"]) == (False, [])
        await world.release(draft["id"])
        assessment = ok(await service.get(f"{base}/assessment"))
        assert assessment["released"] is True
        assert len(assessment["findings"]) == 3
        assert {f["publicly_reported"] for f in assessment["findings"]} == {True, False}
        empty = ok(await service.get(f"/internal/factories/{factory_id}/cycles/9/documents"))
        assert empty["documents"] == []
        missing = ok(await service.get(f"/internal/factories/{factory_id}/cycles/9/assessment"))
        assert missing["released"] is False

    async def test_seminar_action_plans_become_plan_items(
        self, world: World, service: httpx.AsyncClient
    ) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        path = f"/internal/factories/{factory_id}/cycles/1/improvement-plan/items"
        body = {
            "items": [
                {"source": "seminar", "title": "Apply grievance handling module",
                 "owner": "HR", "due_date": "2026-09-30"},
                {"title": "Train supervisors"},
            ]
        }  # fmt: skip
        created = ok(await service.post(path, json=body), 201)
        assert [(i["source"], i["title"]) for i in created["items"]] == [
            ("seminar", "Apply grievance handling module"),
            ("seminar", "Train supervisors"),
        ]
        plan = ok(await world.reports("factory", factory_id).get(
            f"/factories/{factory_id}/cycles/1/improvement-plan"
        ))  # fmt: skip
        assert len(plan["items"]) == 2
        missing = f"/internal/factories/{factory_id}/cycles/5/improvement-plan/items"
        assert (await service.post(missing, json=body)).status_code == 404
        assert (await service.post(path, json={"items": []})).status_code == 422


class TestTpaLookups:
    """`/internal/factories/{id}/tpa-holders` (cycles' event audience)."""

    async def test_holders_are_the_approved_buyers_only(
        self, world: World, service: httpx.AsyncClient
    ) -> None:
        factory_id = await world.factory()
        await world.grant_tpa("partner", "brand-1", factory_id)
        await world.grant_tpa("participant", "buyer-2", factory_id)
        await world.request_tpa("partner", "brand-3", factory_id)  # pending
        declined = await world.request_tpa("partner", "brand-4", factory_id)
        await world.decide_tpa(factory_id, declined["id"], "decline")
        revoked = await world.grant_tpa("participant", "buyer-5", factory_id)
        await world.decide_tpa(factory_id, revoked["id"], "revoke")
        reply = ok(await service.get(f"/internal/factories/{factory_id}/tpa-holders"))
        assert reply == {
            "factory_id": factory_id,
            "holders": [
                {"org": "brand-1", "role": "partner"},
                {"org": "buyer-2", "role": "participant"},
            ],
        }
        unknown = ok(await service.get("/internal/factories/fac_nobody/tpa-holders"))
        assert unknown == {"factory_id": "fac_nobody", "holders": []}

    async def test_user_tokens_are_refused(self, world: World) -> None:
        for role in ("advisor", "partner", "factory"):
            client = world.reports(role, "x")
            assert (await client.get("/internal/factories/f/tpa-holders")).status_code in (401, 403)
