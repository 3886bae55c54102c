"""Unlocking report cycles with the real billing service: participants pay one credit,
partners use their footprint; both need the factory's approved TPA."""

from __future__ import annotations

from tests.helpers import key, ok
from tests.reports.world import World


class TestParticipantUnlock:
    async def test_one_credit_per_cycle_and_the_report_becomes_readable(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        report = await world.released_assessment(factory_id)
        await world.grant_tpa("participant", "buyer-1", factory_id)
        await world.buy_credits("buyer-1", 2)
        buyer = world.reports("participant", "buyer-1")
        assert (await buyer.get(f"/reports/{report['id']}")).status_code == 403

        unlock = ok(await world.unlock("participant", "buyer-1", factory_id), 201)
        assert unlock["charged_credits"] == 1
        assert unlock["footprint_year"] is None
        assert (unlock["factory_id"], unlock["cycle"], unlock["buyer_org"]) == (
            factory_id,
            1,
            "buyer-1",
        )
        assert await world.balance("buyer-1") == 1
        assert ok(await buyer.get(f"/reports/{report['id']}"))["findings"]

    async def test_unlocking_again_is_free_and_returns_the_same_unlock(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("participant", "buyer-1")
        [first] = ok(await world.reports("participant", "buyer-1").get("/unlocks"))["items"]
        again = await world.unlock("participant", "buyer-1", factory_id)
        assert again.status_code == 200
        assert again.json()["id"] == first["id"]
        assert await world.balance("buyer-1") == 0

    async def test_no_credits_is_402_with_a_clear_message(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        await world.grant_tpa("participant", "buyer-1", factory_id)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 402
        assert reply.headers["content-type"] == "application/problem+json"
        assert "no report credits" in reply.json()["detail"]
        assert "POST /v1/billing/invoices" in reply.json()["detail"]
        # Nothing was left behind: buying a credit then unlocking works at once.
        await world.buy_credits("buyer-1", 1)
        ok(await world.unlock("participant", "buyer-1", factory_id), 201)
        assert await world.balance("buyer-1") == 0

    async def test_needs_an_approved_tpa(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        await world.buy_credits("buyer-1", 1)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 403
        assert "POST /access-requests" in reply.json()["detail"]
        request = await world.request_tpa("participant", "buyer-1", factory_id)
        reply = await world.unlock("participant", "buyer-1", factory_id)
        assert reply.status_code == 403
        assert "pending" in reply.json()["detail"]
        await world.decide_tpa(factory_id, request["id"], "decline")
        assert (await world.unlock("participant", "buyer-1", factory_id)).status_code == 403
        assert await world.balance("buyer-1") == 1

    async def test_no_tpa_reveals_nothing_about_cycles(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        existing = await world.unlock("participant", "buyer-1", factory_id, 1)
        missing = await world.unlock("participant", "buyer-1", factory_id, 7)
        assert existing.status_code == missing.status_code == 403
        assert existing.json()["detail"] == missing.json()["detail"]

    async def test_unknown_cycle_with_tpa_is_404(self, world: World) -> None:
        factory_id = await world.factory()
        await world.grant_tpa("participant", "buyer-1", factory_id)
        await world.buy_credits("buyer-1", 1)
        assert (await world.unlock("participant", "buyer-1", factory_id, 9)).status_code == 404
        assert await world.balance("buyer-1") == 1

    async def test_revoked_tpa_keeps_unlocked_cycles_and_blocks_new_ones(
        self, world: World
    ) -> None:
        factory_id, report = await world.readable_factory("participant", "buyer-1")
        await world.open_cycle(factory_id, 2)
        await world.buy_credits("buyer-1", 1)
        [request] = ok(await world.reports("factory", factory_id).get("/access-requests"))["items"]
        await world.decide_tpa(factory_id, request["id"], "revoke")
        buyer = world.reports("participant", "buyer-1")
        assert ok(await buyer.get(f"/reports/{report['id']}"))["id"] == report["id"]
        reply = await world.unlock("participant", "buyer-1", factory_id, 2)
        assert reply.status_code == 403
        assert "revoked" in reply.json()["detail"]
        assert await world.balance("buyer-1") == 1
        # Unlocking the cycle it already holds still answers with that unlock, free.
        assert (await world.unlock("participant", "buyer-1", factory_id, 1)).status_code == 200


class TestPartnerUnlock:
    async def test_free_within_the_footprint_then_403_with_the_numbers(self, world: World) -> None:
        await world.become_partner("brand-1", 2)
        factories = [await world.factory() for _ in range(3)]
        for factory_id in factories:
            await world.open_cycle(factory_id, 1)
            await world.grant_tpa("partner", "brand-1", factory_id)
        for factory_id in factories[:2]:
            unlock = ok(await world.unlock("partner", "brand-1", factory_id), 201)
            assert unlock["charged_credits"] == 0
            assert unlock["footprint_year"] is not None
        reply = await world.unlock("partner", "brand-1", factories[2])
        assert reply.status_code == 403
        problem = reply.json()
        assert "footprint" in problem["detail"]
        assert "2 of 2" in problem["detail"]
        assert (problem["footprint"], problem["used"]) == (2, 2)

    async def test_another_cycle_of_a_counted_factory_is_free(self, world: World) -> None:
        await world.become_partner("brand-1", 1)
        factory_id = await world.factory()
        for cycle in (1, 2):
            await world.open_cycle(factory_id, cycle)
        await world.grant_tpa("partner", "brand-1", factory_id)
        ok(await world.unlock("partner", "brand-1", factory_id, 1), 201)
        ok(await world.unlock("partner", "brand-1", factory_id, 2), 201)
        footprint = ok(await world.api.client("billing", role="partner", org="brand-1").get(
            "/footprint", params={"year": ok(await world.reports("partner", "brand-1").get(
                "/unlocks"))["items"][0]["footprint_year"]}
        ))  # fmt: skip
        assert footprint["used"] == 1

    async def test_no_partnership_means_footprint_zero(self, world: World) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        await world.grant_tpa("partner", "brand-9", factory_id)
        reply = await world.unlock("partner", "brand-9", factory_id)
        assert reply.status_code == 403
        assert reply.json()["footprint"] == 0


class TestIdempotencyAndListing:
    async def test_needs_an_idempotency_key(self, world: World) -> None:
        reply = await world.reports("participant", "buyer-1").post(
            "/unlocks", json={"factory_id": "f", "cycle": 1}
        )
        assert reply.status_code == 400
        assert "Idempotency-Key" in reply.json()["detail"]

    async def test_same_key_replays_different_body_is_422(self, world: World) -> None:
        factory_id = await world.factory()
        for cycle in (1, 2):
            await world.open_cycle(factory_id, cycle)
        await world.grant_tpa("participant", "buyer-1", factory_id)
        await world.buy_credits("buyer-1", 2)
        buyer = world.reports("participant", "buyer-1")
        headers = key()
        body = {"factory_id": factory_id, "cycle": 1}
        first = ok(await buyer.post("/unlocks", json=body, headers=headers), 201)
        replay = await buyer.post("/unlocks", json=body, headers=headers)
        assert replay.status_code == 201
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == first
        other = await buyer.post("/unlocks", json={**body, "cycle": 2}, headers=headers)
        assert other.status_code == 422
        assert await world.balance("buyer-1") == 1

    async def test_list_shows_own_unlocks_only(self, world: World) -> None:
        factory_id, _ = await world.readable_factory("participant", "buyer-1")
        await world.grant_tpa("participant", "buyer-2", factory_id)
        await world.buy_credits("buyer-2", 1)
        ok(await world.unlock("participant", "buyer-2", factory_id), 201)
        mine = ok(await world.reports("participant", "buyer-1").get("/unlocks"))
        assert [u["buyer_org"] for u in mine["items"]] == ["buyer-1"]
        filtered = ok(
            await world.reports("participant", "buyer-1").get(
                "/unlocks", params={"factory_id": "other"}
            )
        )
        assert filtered["items"] == []

    async def test_roles(self, world: World) -> None:
        for role in ("factory", "advisor"):
            client = world.reports(role, "x")
            assert (await client.get("/unlocks")).status_code == 403
            reply = await client.post(
                "/unlocks", json={"factory_id": "f", "cycle": 1}, headers=key()
            )
            assert reply.status_code == 403
