"""Third-party access: buyers ask, the factory approves, declines or revokes; a buyer never
sees another buyer's request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ok
from tests.reports.world import World


def ids(page: dict[str, Any]) -> set[str]:
    return {r["id"] for r in page["items"]}


class TestCreateAccessRequest:
    @pytest.mark.parametrize("role", ["partner", "participant"])
    async def test_buyer_asks(self, world: World, role: str) -> None:
        factory_id = await world.factory()
        reply = await world.reports(role, "buyer-1").post(
            "/access-requests", json={"factory_id": factory_id}
        )
        request = ok(reply, 201)
        assert request["status"] == "pending"
        assert request["factory_id"] == factory_id
        assert request["buyer_org"] == "buyer-1"
        again = await world.reports(role, "buyer-1").post(
            "/access-requests", json={"factory_id": factory_id}
        )
        assert ok(again)["id"] == request["id"]

    async def test_unknown_factory_is_404(self, world: World) -> None:
        reply = await world.reports("partner", "b").post(
            "/access-requests", json={"factory_id": "no-such-factory"}
        )
        assert reply.status_code == 404

    @pytest.mark.parametrize("role", ["factory", "advisor"])
    async def test_only_buyers_ask(self, world: World, role: str) -> None:
        factory_id = await world.factory()
        reply = await world.reports(role, "x").post(
            "/access-requests", json={"factory_id": factory_id}
        )
        assert reply.status_code == 403

    async def test_asking_again_after_decline_or_revoke(self, world: World) -> None:
        factory_id = await world.factory()
        request = await world.request_tpa("partner", "b", factory_id)
        await world.decide_tpa(factory_id, request["id"], "decline")
        again = await world.request_tpa("partner", "b", factory_id)
        assert (again["id"], again["status"], again["decided_at"]) == (
            request["id"],
            "pending",
            None,
        )
        await world.decide_tpa(factory_id, request["id"], "approve")
        await world.decide_tpa(factory_id, request["id"], "revoke")
        assert (await world.request_tpa("partner", "b", factory_id))["status"] == "pending"

    async def test_validation(self, world: World) -> None:
        buyer = world.reports("partner", "b")
        for body in ({}, {"factory_id": ""}, {"factory_id": "a" * 129}, {"factory_id": 5}):
            assert (await buyer.post("/access-requests", json=body)).status_code == 422


class TestListAndGet:
    async def test_each_side_sees_its_own(self, world: World) -> None:
        factory_a = await world.factory()
        factory_b = await world.factory()
        mine = await world.request_tpa("partner", "brand-1", factory_a)
        theirs = await world.request_tpa("participant", "brand-2", factory_a)
        elsewhere = await world.request_tpa("partner", "brand-1", factory_b)

        brand_1 = ok(await world.reports("partner", "brand-1").get("/access-requests"))
        assert ids(brand_1) == {mine["id"], elsewhere["id"]}
        assert all(r["buyer_org"] == "brand-1" for r in brand_1["items"])
        incoming = ok(await world.reports("factory", factory_a).get("/access-requests"))
        assert ids(incoming) == {mine["id"], theirs["id"]}
        everything = ok(await world.advisor.get("/access-requests"))
        assert ids(everything) == {mine["id"], theirs["id"], elsewhere["id"]}
        filtered = ok(await world.advisor.get("/access-requests", params={"factory_id": factory_b}))
        assert ids(filtered) == {elsewhere["id"]}
        # A factory asking about another factory's requests learns nothing.
        other = ok(
            await world.reports("factory", factory_b).get(
                "/access-requests", params={"factory_id": factory_a}
            )
        )
        assert other["items"] == []

        # One by one: another buyer's request does not exist for brand-1.
        brand = world.reports("partner", "brand-1")
        assert ok(await brand.get(f"/access-requests/{mine['id']}"))["id"] == mine["id"]
        assert (await brand.get(f"/access-requests/{theirs['id']}")).status_code == 404
        factory_b_client = world.reports("factory", factory_b)
        assert (await factory_b_client.get(f"/access-requests/{mine['id']}")).status_code == 404

    async def test_status_filter_and_pages(self, world: World) -> None:
        factory_id = await world.factory()
        for n in range(5):
            request = await world.request_tpa("partner", f"brand-{n}", factory_id)
            if n % 2:
                await world.decide_tpa(factory_id, request["id"], "approve")
        factory = world.reports("factory", factory_id)
        approved = ok(await factory.get("/access-requests", params={"status": "approved"}))
        assert len(approved["items"]) == 2
        page = ok(await factory.get("/access-requests", params={"limit": 3}))
        rest = ok(await factory.get("/access-requests", params={"cursor": page["next_cursor"]}))
        assert len(page["items"]) + len(rest["items"]) == 5
        assert rest["next_cursor"] is None
        assert (
            await factory.get("/access-requests", params={"status": "maybe"})
        ).status_code == 422


class TestDecisions:
    async def test_transitions(self, world: World) -> None:
        factory_id = await world.factory()
        request = await world.request_tpa("participant", "b", factory_id)
        factory = world.reports("factory", factory_id)
        path = f"/access-requests/{request['id']}"
        assert (await factory.post(path + "/revoke")).status_code == 409  # not approved yet
        approved = ok(await factory.post(path + "/approve"))
        assert approved["status"] == "approved"
        assert approved["decided_at"] is not None
        assert ok(await factory.post(path + "/approve"))["status"] == "approved"  # no-op
        assert (await factory.post(path + "/decline")).status_code == 409
        assert ok(await factory.post(path + "/revoke"))["status"] == "revoked"
        assert (await factory.post(path + "/approve")).status_code == 409

    async def test_decline(self, world: World) -> None:
        factory_id = await world.factory()
        request = await world.request_tpa("participant", "b", factory_id)
        declined = await world.decide_tpa(factory_id, request["id"], "decline")
        assert declined["status"] == "declined"

    async def test_only_the_factory_decides(self, world: World) -> None:
        factory_id = await world.factory()
        request = await world.request_tpa("participant", "b", factory_id)
        path = f"/access-requests/{request['id']}/approve"
        other_factory = world.reports("factory", await world.factory())
        assert (await other_factory.post(path)).status_code == 404
        for role in ("participant", "partner", "advisor"):
            assert (await world.reports(role, "b").post(path)).status_code == 403, role
        assert (await other_factory.post("/access-requests/tpa_NOPE/approve")).status_code == 404
