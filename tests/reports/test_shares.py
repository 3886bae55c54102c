"""Sharing an unlocked cycle, free of charge, within the factory's direct supply chain."""

from __future__ import annotations

from typing import Any

from tests.helpers import ok
from tests.reports.world import World


async def share(
    world: World, org: str, factory_id: str, with_org: str, cycle: int = 1, role: str = "partner"
) -> Any:
    return await world.reports(role, org).post(
        "/shares", json={"factory_id": factory_id, "cycle": cycle, "with_org": with_org}
    )


class TestShares:
    async def test_recipient_with_approved_tpa_reads_for_free(self, world: World) -> None:
        factory_id, report = await world.readable_factory("partner", "brand-1")
        await world.grant_tpa("participant", "brand-2", factory_id)
        recipient = world.reports("participant", "brand-2")
        assert (await recipient.get(f"/reports/{report['id']}")).status_code == 403
        created = ok(await share(world, "brand-1", factory_id, "brand-2"), 201)
        assert (created["factory_id"], created["cycle"], created["with_org"]) == (
            factory_id,
            1,
            "brand-2",
        )
        assert ok(await recipient.get(f"/reports/{report['id']}"))["id"] == report["id"]
        assert ok(await recipient.get("/unlocks"))["items"] == []  # shared, not unlocked
        again = await share(world, "brand-1", factory_id, "brand-2")
        assert again.status_code == 200
        assert again.json()["id"] == created["id"]
        listed = ok(await world.reports("partner", "brand-1").get("/shares"))
        assert [s["id"] for s in listed["items"]] == [created["id"]]
        assert ok(await recipient.get("/shares"))["items"] == []

    async def test_the_sharer_learns_nothing_about_the_recipient(self, world: World) -> None:
        factory_id, report = await world.readable_factory("partner", "brand-1")
        await world.grant_tpa("participant", "in-chain", factory_id)
        with_tpa = await share(world, "brand-1", factory_id, "in-chain")
        without_tpa = await share(world, "brand-1", factory_id, "outsider")
        assert with_tpa.status_code == without_tpa.status_code == 201
        assert set(with_tpa.json()) == set(without_tpa.json())
        # ...but only the supply-chain member can read.
        outsider = world.reports("participant", "outsider")
        assert (await outsider.get(f"/reports/{report['id']}")).status_code == 404

    async def test_recipient_loses_shared_access_when_its_tpa_is_revoked(
        self, world: World
    ) -> None:
        factory_id, report = await world.readable_factory("partner", "brand-1")
        granted = await world.grant_tpa("participant", "brand-2", factory_id)
        ok(await share(world, "brand-1", factory_id, "brand-2"), 201)
        recipient = world.reports("participant", "brand-2")
        for _ in range(2):  # read twice: the released report is now kept in process
            assert ok(await recipient.get(f"/reports/{report['id']}"))["id"] == report["id"]
        await world.decide_tpa(factory_id, granted["id"], "revoke")
        assert (await recipient.get(f"/reports/{report['id']}")).status_code == 403
        # The sharer read through its own unlock, which no revocation of others touches.
        sharer = world.reports("partner", "brand-1")
        assert ok(await sharer.get(f"/reports/{report['id']}"))["id"] == report["id"]

    async def test_only_an_unlocked_cycle_with_own_tpa_can_be_shared(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        # No TPA: the cycle does not exist for the buyer.
        assert (await share(world, "brand-1", factory_id, "brand-2")).status_code == 404
        granted = await world.grant_tpa("partner", "brand-1", factory_id)
        reply = await share(world, "brand-1", factory_id, "brand-2")
        assert reply.status_code == 403
        assert "Unlock" in reply.json()["detail"]
        await world.become_partner("brand-1", 1)
        ok(await world.unlock("partner", "brand-1", factory_id), 201)
        await world.decide_tpa(factory_id, granted["id"], "revoke")
        assert (await share(world, "brand-1", factory_id, "brand-2")).status_code == 403

    async def test_validation_and_roles(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("partner", "brand-1")
        assert (await share(world, "brand-1", factory_id, "brand-1")).status_code == 422
        reply = await world.reports("partner", "brand-1").post("/shares", json={"factory_id": "f"})
        assert reply.status_code == 422
        for role in ("factory", "advisor"):
            reply = await world.reports(role, "x").post(
                "/shares", json={"factory_id": factory_id, "cycle": 1, "with_org": "y"}
            )
            assert reply.status_code == 403
