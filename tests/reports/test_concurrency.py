"""Concurrent unlocks against the real billing service on PostgreSQL: credits and
footprints are never overspent, and a cycle is unlocked (and paid for) once."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import ok
from tests.reports.world import World, this_year

pytestmark = pytest.mark.postgres


async def test_one_credit_and_twenty_concurrent_unlocks_of_different_cycles(
    world: World,
) -> None:
    factory_id = await world.factory()
    for cycle in range(1, 21):
        await world.open_cycle(factory_id, cycle)
    await world.grant_tpa("participant", "buyer-1", factory_id)
    await world.buy_credits("buyer-1", 1)

    replies = await asyncio.gather(
        *(world.unlock("participant", "buyer-1", factory_id, cycle) for cycle in range(1, 21))
    )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] + [402] * 19
    unlocks = ok(await world.reports("participant", "buyer-1").get("/unlocks"))["items"]
    assert len(unlocks) == 1
    assert await world.balance("buyer-1") == 0


async def test_partner_footprint_n_and_2n_concurrent_unlocks_of_distinct_factories(
    world: World,
) -> None:
    footprint = 4
    await world.become_partner("brand-1", footprint)
    factories = [await world.factory() for _ in range(2 * footprint)]
    for factory_id in factories:
        await world.open_cycle(factory_id)
        await world.grant_tpa("partner", "brand-1", factory_id)

    replies = await asyncio.gather(
        *(world.unlock("partner", "brand-1", factory_id) for factory_id in factories)
    )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] * footprint + [403] * footprint
    unlocks = ok(await world.reports("partner", "brand-1").get("/unlocks"))["items"]
    assert len({u["factory_id"] for u in unlocks}) == footprint
    usage = ok(
        await world.api.client("billing", role="partner", org="brand-1").get(
            "/footprint", params={"year": this_year()}
        )
    )
    assert usage["used"] == footprint


async def test_concurrent_unlocks_of_one_cycle_pay_once(world: World) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id)
    await world.grant_tpa("participant", "buyer-1", factory_id)
    await world.buy_credits("buyer-1", 3)

    replies = await asyncio.gather(
        *(world.unlock("participant", "buyer-1", factory_id) for _ in range(10))
    )
    succeeded = [r for r in replies if r.status_code in (200, 201)]
    # Requests that met the first one in flight get 409 (retry in a moment); none pay twice.
    assert {r.status_code for r in replies} <= {200, 201, 409}
    assert len({r.json()["id"] for r in succeeded}) == 1
    assert await world.balance("buyer-1") == 2
    unlocks = ok(await world.reports("participant", "buyer-1").get("/unlocks"))["items"]
    assert len(unlocks) == 1


async def test_concurrent_access_requests_make_one(world: World) -> None:
    factory_id = await world.factory()
    buyer = world.reports("partner", "brand-1")
    replies = await asyncio.gather(
        *(buyer.post("/access-requests", json={"factory_id": factory_id}) for _ in range(8))
    )
    assert sorted(r.status_code for r in replies) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in replies}) == 1
