"""Training participant-days: booking against the cycle's allowance, purchases of extra
days (recorded, with quantity, idempotent), remaining days shown."""

from __future__ import annotations

import asyncio

import pytest

from tests.cycles.world import World, days_ago
from tests.helpers import key, ok


async def open_cycle(world: World) -> tuple[str, str]:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, days_ago(30))
    return factory_id, cycle["id"]


def course(participants: int, days: int) -> dict[str, object]:
    return {"course": "Workplace cooperation", "participants": participants, "days": days}


async def test_factory_books_and_sees_what_remains(world: World) -> None:
    factory_id, cycle_id = await open_cycle(world)
    factory = world.cycles("factory", factory_id)
    booked = ok(await factory.post(f"/cycles/{cycle_id}/training", json=course(4, 2)), 201)
    assert booked["booking"]["participant_days"] == 8
    # The allowance is the programme's (eligibility's rule data: 20 in BD).
    assert (booked["allowance"], booked["used"], booked["remaining"]) == (20, 8, 12)
    booked = ok(await world.advisor.post(f"/cycles/{cycle_id}/training", json=course(12, 1)), 201)
    assert booked["remaining"] == 0
    summary = ok(await factory.get(f"/cycles/{cycle_id}/training"))
    assert (summary["used"], summary["remaining"], len(summary["bookings"])) == (20, 0, 2)


async def test_overdraw_needs_an_explicit_purchase(world: World) -> None:
    factory_id, cycle_id = await open_cycle(world)
    factory = world.cycles("factory", factory_id)
    ok(await factory.post(f"/cycles/{cycle_id}/training", json=course(5, 3)), 201)
    refused = await factory.post(f"/cycles/{cycle_id}/training", json=course(3, 2))
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["rule"], problem["remaining"], problem["shortfall"]) == (
        "training_allowance",
        5,
        1,
    )
    assert "Purchase at least 1" in problem["detail"]

    headers = key()
    bought = ok(
        await factory.post(
            f"/cycles/{cycle_id}/training/purchases",
            json={"participant_days": 10, "reference": "PO-1"},
            headers=headers,
        ),
        201,
    )
    assert bought["purchase"]["participant_days"] == 10
    assert (bought["purchased"], bought["remaining"]) == (10, 15)
    replay = await factory.post(
        f"/cycles/{cycle_id}/training/purchases",
        json={"participant_days": 10, "reference": "PO-1"},
        headers=headers,
    )
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == bought
    booked = ok(await factory.post(f"/cycles/{cycle_id}/training", json=course(3, 2)), 201)
    assert booked["remaining"] == 9
    summary = ok(await factory.get(f"/cycles/{cycle_id}/training"))
    assert [p["participant_days"] for p in summary["purchases"]] == [10]


async def test_purchase_needs_an_idempotency_key(world: World) -> None:
    factory_id, cycle_id = await open_cycle(world)
    factory = world.cycles("factory", factory_id)
    reply = await factory.post(
        f"/cycles/{cycle_id}/training/purchases", json={"participant_days": 5}
    )
    assert reply.status_code == 400


@pytest.mark.parametrize(
    "body",
    [course(0, 1), course(1, 0), course(1, 31), {"course": "", "participants": 1, "days": 1}],
)
async def test_invalid_bookings(world: World, body: dict[str, object]) -> None:
    _, cycle_id = await open_cycle(world)
    reply = await world.advisor.post(f"/cycles/{cycle_id}/training", json=body)
    assert reply.status_code == 422


async def test_other_factories_and_buyers_cannot_book(world: World) -> None:
    _, cycle_id = await open_cycle(world)
    stranger = world.cycles("factory", "another-factory")
    assert (
        await stranger.post(f"/cycles/{cycle_id}/training", json=course(1, 1))
    ).status_code == 404
    assert (await stranger.get(f"/cycles/{cycle_id}/training")).status_code == 404
    buyer = world.cycles("partner", "brand-1")
    assert (await buyer.post(f"/cycles/{cycle_id}/training", json=course(1, 1))).status_code == 403


@pytest.mark.postgres
async def test_concurrent_bookings_never_overdraw(world: World) -> None:
    factory_id, cycle_id = await open_cycle(world)
    factory = world.cycles("factory", factory_id)
    replies = await asyncio.gather(
        *(factory.post(f"/cycles/{cycle_id}/training", json=course(3, 1)) for _ in range(10))
    )
    assert sorted(r.status_code for r in replies) == [201] * 6 + [422] * 4
    summary = ok(await factory.get(f"/cycles/{cycle_id}/training"))
    assert (summary["used"], summary["remaining"]) == (18, 2)
