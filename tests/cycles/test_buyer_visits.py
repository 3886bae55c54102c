"""Joint advisory visits (partners) and shadow visits (partners and participants): TPA,
unlocked report cycle, one shadow assessment and one shadow advisory visit per buyer per
country per calendar year; refusals say which limit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.cycles.world import World, days_ago, today
from tests.helpers import ok

SOON = today() + timedelta(days=7)


async def cycle_with_access(
    world: World,
    *,
    buyer: str,
    role: str,
    country: str = "BD",
    unlock: bool = True,
    started_days_ago: int = 60,
) -> tuple[str, dict[str, Any]]:
    factory_id = await world.factory(country=country)
    cycle = await world.open_cycle(factory_id, days_ago(started_days_ago))
    await world.approve_tpa(factory_id, buyer=buyer, role=role)
    if unlock:
        await world.unlock(factory_id, 1, buyer=buyer, role=role)
    return factory_id, cycle


def ask(type: str, day: object = SOON) -> dict[str, str]:
    return {"type": type, "date": str(day)}


class TestJointAdvisory:
    async def test_partner_asks_with_roles_agreed(self, world: World) -> None:
        _, cycle = await cycle_with_access(world, buyer="brand-1", role="partner", unlock=False)
        partner = world.cycles("partner", "brand-1")
        body = {**ask("joint_advisory"), "note": "EA leads; brand raises overtime"}
        visit = ok(await partner.post(f"/cycles/{cycle['id']}/visits", json=body), 201)
        assert (visit["status"], visit["buyer_org"]) == ("requested", "brand-1")
        done = ok(
            await world.advisor.post(
                f"/cycles/{cycle['id']}/visits/{visit['id']}/complete",
                json={"date": days_ago(1).isoformat()},
            )
        )
        assert done["status"] == "completed"

    async def test_participants_cannot(self, world: World) -> None:
        _, cycle = await cycle_with_access(world, buyer="buyer-1", role="participant")
        participant = world.cycles("participant", "buyer-1")
        reply = await participant.post(f"/cycles/{cycle['id']}/visits", json=ask("joint_advisory"))
        assert reply.status_code == 403
        assert "shadow" in reply.json()["detail"]

    async def test_needs_an_approved_tpa(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, days_ago(60))
        partner = world.cycles("partner", "brand-1")
        reply = await partner.post(f"/cycles/{cycle['id']}/visits", json=ask("joint_advisory"))
        assert reply.status_code == 403
        assert reply.json()["rule"] == "approved_tpa"

    async def test_not_in_the_past(self, world: World) -> None:
        _, cycle = await cycle_with_access(world, buyer="brand-1", role="partner", unlock=False)
        partner = world.cycles("partner", "brand-1")
        reply = await partner.post(
            f"/cycles/{cycle['id']}/visits", json=ask("joint_advisory", days_ago(1))
        )
        assert reply.json()["rule"] == "request_not_in_past"

    @pytest.mark.parametrize("type", ["advisory", "assessment"])
    async def test_buyers_do_not_schedule_better_work_visits(self, world: World, type: str) -> None:
        _, cycle = await cycle_with_access(world, buyer="brand-1", role="partner")
        partner = world.cycles("partner", "brand-1")
        reply = await partner.post(f"/cycles/{cycle['id']}/visits", json=ask(type))
        assert reply.status_code == 403


class TestShadowVisits:
    @pytest.mark.parametrize(
        ("buyer", "role"), [("brand-1", "partner"), ("buyer-1", "participant")]
    )
    async def test_one_of_each_per_country_per_year(
        self, world: World, buyer: str, role: str
    ) -> None:
        _, cycle = await cycle_with_access(world, buyer=buyer, role=role)
        client = world.cycles(role, buyer)
        url = f"/cycles/{cycle['id']}/visits"
        ok(await client.post(url, json=ask("shadow_assessment")), 201)
        ok(await client.post(url, json=ask("shadow_advisory")), 201)
        again = await client.post(url, json=ask("shadow_advisory", SOON + timedelta(days=1)))
        assert again.status_code == 422
        assert again.json()["rule"] == "shadow_advisory_per_year"
        assert "at most 1 advisory visit per country per calendar year" in again.json()["detail"]
        twice = await client.post(url, json=ask("shadow_assessment", SOON + timedelta(days=2)))
        assert twice.json()["rule"] == "shadow_assessment_per_year"

    async def test_another_factory_in_the_same_country_counts_another_country_does_not(
        self, world: World
    ) -> None:
        _, first = await cycle_with_access(world, buyer="brand-1", role="partner")
        _, same_country = await cycle_with_access(world, buyer="brand-1", role="partner")
        _, elsewhere = await cycle_with_access(world, buyer="brand-1", role="partner", country="KH")
        partner = world.cycles("partner", "brand-1")
        ok(await partner.post(f"/cycles/{first['id']}/visits", json=ask("shadow_advisory")), 201)
        refused = await partner.post(
            f"/cycles/{same_country['id']}/visits", json=ask("shadow_advisory")
        )
        assert refused.json()["rule"] == "shadow_advisory_per_year"
        ok(
            await partner.post(f"/cycles/{elsewhere['id']}/visits", json=ask("shadow_advisory")),
            201,
        )
        # Another buyer has its own allowance.
        await world.approve_tpa(first["factory_id"], buyer="buyer-9", role="participant")
        await world.unlock(first["factory_id"], 1, buyer="buyer-9", role="participant")
        other = world.cycles("participant", "buyer-9")
        ok(await other.post(f"/cycles/{first['id']}/visits", json=ask("shadow_advisory")), 201)

    async def test_withdrawing_frees_the_slot(self, world: World) -> None:
        _, cycle = await cycle_with_access(world, buyer="brand-1", role="partner")
        partner = world.cycles("partner", "brand-1")
        url = f"/cycles/{cycle['id']}/visits"
        first = ok(await partner.post(url, json=ask("shadow_advisory")), 201)
        ok(await partner.post(f"{url}/{first['id']}/cancel"))
        ok(await partner.post(url, json=ask("shadow_advisory")), 201)
        # A buyer cannot withdraw what is not its own.
        stranger = world.cycles("partner", "brand-7")
        assert (await stranger.post(f"{url}/{first['id']}/cancel")).status_code == 404

    async def test_needs_an_unlocked_report_cycle(self, world: World) -> None:
        _, cycle = await cycle_with_access(world, buyer="buyer-1", role="participant", unlock=False)
        participant = world.cycles("participant", "buyer-1")
        reply = await participant.post(f"/cycles/{cycle['id']}/visits", json=ask("shadow_advisory"))
        assert reply.status_code == 403
        assert reply.json()["rule"] == "unlocked_report_cycle"
        assert "unlock cycle 1" in reply.json()["detail"]

    async def test_needs_an_approved_tpa(self, world: World) -> None:
        factory_id = await world.factory()
        cycle = await world.open_cycle(factory_id, days_ago(60))
        participant = world.cycles("participant", "buyer-1")
        reply = await participant.post(f"/cycles/{cycle['id']}/visits", json=ask("shadow_advisory"))
        assert reply.status_code == 403
        assert reply.json()["rule"] == "approved_tpa"

    async def test_shadow_assessment_is_recorded_with_the_assessment(self, world: World) -> None:
        _, cycle = await cycle_with_access(
            world, buyer="brand-1", role="partner", started_days_ago=95
        )
        partner = world.cycles("partner", "brand-1")
        shadow = ok(
            await partner.post(f"/cycles/{cycle['id']}/visits", json=ask("shadow_assessment")),
            201,
        )
        base = f"/cycles/{cycle['id']}/visits"
        early = await world.advisor.post(f"{base}/{shadow['id']}/complete")
        assert early.json()["rule"] == "shadow_after_assessment"
        held_on = days_ago(1)
        await world.visit(cycle["id"], "assessment", held_on, complete=True)
        done = ok(await world.advisor.post(f"{base}/{shadow['id']}/complete"))
        assert (done["status"], done["date"]) == ("completed", held_on.isoformat())

    @pytest.mark.postgres
    async def test_concurrent_requests_take_one_slot(self, world: World) -> None:
        _, first = await cycle_with_access(world, buyer="brand-1", role="partner")
        _, second = await cycle_with_access(world, buyer="brand-1", role="partner")
        partner = world.cycles("partner", "brand-1")
        replies = await asyncio.gather(
            *(
                partner.post(f"/cycles/{cycle['id']}/visits", json=ask("shadow_assessment"))
                for cycle in (first, second, first, second)
            )
        )
        assert sorted(r.status_code for r in replies) == [201, 422, 422, 422]
