"""High-performing status for buyers (issue 12, item 8): a buyer holding the factory's
approved TPA reads the current classification (the outcome, never the evidence); other
buyers, other factories and advisors of other programmes do not; the public portal does
not list it. And every TPA holder, named on a visit or not, hears of the change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cycles.test_classification import assessed_cycle, classify
from tests.cycles.world import World
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import feed, take_in

# The buyer's TPA state for the factory → does it read the status?
TPA_STATES: list[tuple[str, bool]] = [
    ("none", False),
    ("pending", False),
    ("declined", False),
    ("approved", True),
    ("revoked", False),
]


async def _tpa(world: World, factory_id: str, *, buyer: str, role: str, state: str) -> None:
    if state == "none":
        return
    reports = world.api.client("reports", role=role, org=buyer)
    request = ok(await reports.post("/access-requests", json={"factory_id": factory_id}), 201)
    factory = world.api.client("reports", role="factory", org=factory_id)
    action = {"pending": None, "declined": "decline", "approved": "approve", "revoked": "approve"}
    if action[state] is not None:
        ok(await factory.post(f"/access-requests/{request['id']}/{action[state]}"))
    if state == "revoked":
        ok(await factory.post(f"/access-requests/{request['id']}/revoke"))


async def _high_performing_factory(world: World) -> str:
    factory_id = await world.factory()
    await assessed_cycle(world, factory_id, 800, None)
    await assessed_cycle(world, factory_id, 400, None)
    assert ok(await classify(world, factory_id), 201)["high_performing"] is True
    return factory_id


@pytest.mark.parametrize("role", ["partner", "participant"])
@pytest.mark.parametrize(("state", "sees"), TPA_STATES)
async def test_buyers_see_the_status_only_with_an_approved_tpa(
    world: World, role: str, state: str, sees: bool
) -> None:
    factory_id = await _high_performing_factory(world)
    await _tpa(world, factory_id, buyer="buyer-1", role=role, state=state)
    reply = await world.cycles(role, "buyer-1").get(f"/factories/{factory_id}/high-performing")
    if not sees:
        assert reply.status_code == 403, reply.text
        assert reply.headers["content-type"] == "application/problem+json"
        assert "third-party access" in reply.json()["detail"]
        return
    body = ok(reply)
    assert body["factory_id"] == factory_id
    assert body["classified"] is True and body["high_performing"] is True
    assert body["classified_at"]
    assert set(body) == {"factory_id", "classified", "high_performing", "classified_at"}
    # The evidence stays with advisors and the factory.
    evidence = await world.cycles(role, "buyer-1").get(f"/factories/{factory_id}/classification")
    assert evidence.status_code == 403


# (role, org, countries) → expected status; `{factory}` is the test's factory.
OTHER_READERS: list[tuple[str, str, list[str] | None, int]] = [
    ("factory", "{factory}", None, 200),
    ("factory", "fac_other", None, 403),
    ("advisor", "bw", ["BD"], 200),
    ("advisor", "bw", ["*"], 200),
    ("advisor", "bw", ["KH"], 403),
]


@pytest.mark.parametrize(("role", "org", "countries", "status"), OTHER_READERS)
async def test_factory_and_advisor_access(
    world: World, role: str, org: str, countries: list[str] | None, status: int
) -> None:
    factory_id = await _high_performing_factory(world)
    client = world.cycles(role, org.format(factory=factory_id), countries=countries)
    reply = await client.get(f"/factories/{factory_id}/high-performing")
    assert reply.status_code == status, reply.text
    if status == 200:
        assert reply.json()["high_performing"] is True


async def test_unclassified_factory_reads_as_not_classified(world: World) -> None:
    factory_id = await world.factory()
    await world.approve_tpa(factory_id, buyer="brand-1", role="partner")
    body = ok(
        await world.cycles("partner", "brand-1").get(f"/factories/{factory_id}/high-performing")
    )
    assert body == {
        "factory_id": factory_id,
        "classified": False,
        "high_performing": False,
        "classified_at": None,
    }


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_the_public_portal_does_not_list_it(world: World, api: Api) -> None:
    factory_id = await _high_performing_factory(world)
    portal = api.client("reports")
    page = ok(await portal.get("/public/factories"))
    one = ok(await portal.get(f"/public/factories/{factory_id}"))
    for body in (page, one):
        assert not {k for k in _keys(body) if "perform" in k or "classif" in k}, body


async def test_a_tpa_holder_never_named_on_a_visit_hears_of_the_cycle_and_the_class(
    world: World, api: Api
) -> None:
    factory_id = await world.factory()
    # brand-9 holds an approved TPA but no visit names it; buyer-2 asked and was declined.
    await world.approve_tpa(factory_id, buyer="brand-9", role="partner")
    await _tpa(world, factory_id, buyer="buyer-2", role="participant", state="declined")
    await assessed_cycle(world, factory_id, 800, None)
    await assessed_cycle(world, factory_id, 400, None)
    ok(await classify(world, factory_id), 201)
    await take_in(api)

    def seen(role: str, org: str) -> Any:
        return feed(api.client("integrations", role=role, org=org), limit=500)

    holder = [e for e in (await seen("partner", "brand-9"))["items"] if e["source"] == "cycles"]
    types = [e["type"] for e in holder]
    assert types.count("cycle.opened") == 2
    [changed] = [e for e in holder if e["type"] == "classification.changed"]
    assert changed["data"] == {"factory_id": factory_id, "high_performing": True}
    declined = (await seen("participant", "buyer-2"))["items"]
    assert [e for e in declined if e["source"] == "cycles"] == []
