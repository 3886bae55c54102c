"""Industry seminars: created by advisors (capacity at most 60), factories register
participants, the 61st is refused; action plans become improvement-plan items."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.cycles.world import World, days_ago, today
from tests.helpers import ADVISOR_ORG, ok
from tests.inprocess import Api


def seminar_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Preventing sexual harassment",
        "date": today().isoformat(),
        "country": "BD",
        "duration": "full_day",
        "capacity": 60,
    }
    return body | overrides


async def create(world: World, **overrides: Any) -> dict[str, Any]:
    seminar: dict[str, Any] = ok(
        await world.advisor.post("/seminars", json=seminar_body(**overrides)), 201
    )
    return seminar


async def register(world: World, seminar_id: str, factory_id: str, participants: int) -> Any:
    factory = world.cycles("factory", factory_id)
    return await factory.post(
        f"/seminars/{seminar_id}/registrations",
        json={"factory_id": factory_id, "participants": participants},
    )


class TestCreate:
    async def test_advisor_creates(self, world: World) -> None:
        seminar = await create(world, date="2026-04-10")
        assert seminar["quarter"] == "2026-Q2"
        assert (seminar["capacity"], seminar["places_left"]) == (60, 60)
        assert (
            ok(await world.advisor.get(f"/seminars/{seminar['id']}"))["title"] == seminar["title"]
        )

    @pytest.mark.parametrize(
        "overrides",
        [{"capacity": 61}, {"capacity": 0}, {"duration": "two_days"}, {"country": "FR"}],
    )
    async def test_invalid(self, world: World, overrides: dict[str, Any]) -> None:
        reply = await world.advisor.post("/seminars", json=seminar_body(**overrides))
        assert reply.status_code == 422

    async def test_only_advisors_of_the_programme(self, world: World) -> None:
        factory = world.cycles("factory", "f-1")
        assert (await factory.post("/seminars", json=seminar_body())).status_code == 403
        khmer = world.cycles("advisor", ADVISOR_ORG, countries=["KH"])
        assert (await khmer.post("/seminars", json=seminar_body())).status_code == 403

    async def test_anyone_lists_them(self, world: World) -> None:
        await create(world)
        await create(world, country="KH")
        buyer = world.cycles("participant", "buyer-1")
        listed = ok(await buyer.get("/seminars", params={"country": "KH"}))
        assert [s["country"] for s in listed["items"]] == ["KH"]
        assert len(ok(await buyer.get("/seminars"))["items"]) == 2


class TestRegistrations:
    async def test_the_61st_participant_is_refused(self, world: World) -> None:
        seminar = await create(world)
        factories = [await world.factory() for _ in range(3)]
        first = ok(await register(world, seminar["id"], factories[0], 40), 201)
        assert first["places_left"] == 20
        ok(await register(world, seminar["id"], factories[1], 20), 201)
        full = await register(world, seminar["id"], factories[2], 1)
        assert full.status_code == 409
        assert "60 of 60 places are taken" in full.json()["detail"]
        assert full.json()["rule"] == "seminar_capacity"
        assert ok(await world.advisor.get(f"/seminars/{seminar['id']}"))["places_left"] == 0

    async def test_rules(self, world: World) -> None:
        seminar = await create(world)
        enrolled = await world.factory()
        ok(await register(world, seminar["id"], enrolled, 2), 201)
        assert (await register(world, seminar["id"], enrolled, 2)).status_code == 409  # twice
        registered_only = await world.factory(enrol=False)
        assert (await register(world, seminar["id"], registered_only, 2)).status_code == 409
        khmer = await world.factory(country="KH")
        assert (await register(world, seminar["id"], khmer, 2)).json()["rule"] == "seminar_country"
        past = await create(world, date=(today() - timedelta(days=1)).isoformat())
        assert (await register(world, past["id"], enrolled, 2)).status_code == 409

    async def test_a_factory_registers_itself_only(self, world: World) -> None:
        seminar = await create(world)
        factory_id = await world.factory()
        other = world.cycles("factory", "someone-else")
        reply = await other.post(
            f"/seminars/{seminar['id']}/registrations",
            json={"factory_id": factory_id, "participants": 1},
        )
        assert reply.status_code == 403

    @pytest.mark.postgres
    async def test_concurrent_registrations_never_exceed_capacity(self, world: World) -> None:
        seminar = await create(world, capacity=10)
        factories = [await world.factory() for _ in range(6)]
        replies = await asyncio.gather(*(register(world, seminar["id"], f, 3) for f in factories))
        assert sorted(r.status_code for r in replies) == [201] * 3 + [409] * 3
        assert ok(await world.advisor.get(f"/seminars/{seminar['id']}"))["places_left"] == 1


async def test_action_plan_becomes_improvement_plan_items(world: World, api: Api) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id, days_ago(30))
    seminar = await create(world)
    registration = ok(await register(world, seminar["id"], factory_id, 5), 201)
    factory = world.cycles("factory", factory_id)
    plan = ok(
        await factory.post(
            f"/seminars/{seminar['id']}/registrations/{registration['id']}/action-plan",
            json={
                "items": [
                    {"title": "Publish the anti-harassment policy", "owner": "HR manager"},
                    {"title": "Train line supervisors", "due_date": "2027-01-31"},
                ]
            },
        ),
        201,
    )
    assert (plan["cycle"], len(plan["items"])) == (1, 2)
    reports = api.client("reports", role="factory", org=factory_id)
    live = ok(await reports.get(f"/factories/{factory_id}/cycles/1/improvement-plan"))
    seminar_items = [i for i in live["items"] if i["source"] == "seminar"]
    assert sorted(i["title"] for i in seminar_items) == [
        "Publish the anti-harassment policy",
        "Train line supervisors",
    ]
    stranger = world.cycles("factory", "someone-else")
    reply = await stranger.post(
        f"/seminars/{seminar['id']}/registrations/{registration['id']}/action-plan",
        json={"items": [{"title": "x"}]},
    )
    assert reply.status_code == 404


async def test_action_plan_waits_for_the_seminar(world: World) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id, days_ago(30))
    seminar = await create(world, date=(today() + timedelta(days=5)).isoformat())
    registration = ok(await register(world, seminar["id"], factory_id, 5), 201)
    reply = await world.advisor.post(
        f"/seminars/{seminar['id']}/registrations/{registration['id']}/action-plan",
        json={"items": [{"title": "Later"}]},
    )
    assert reply.status_code == 409
