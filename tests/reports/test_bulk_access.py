"""Bulk access requests (issue 12, item 7): up to 1,000 factories in one call, from ids or
a scoped factory list, one outcome per row, one Idempotency-Key, the same event and
notification per request made as a single request."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from services.eligibility.models import Factory
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import feed, take_in
from tests.reports.world import World

PATH = "/access-requests/bulk"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def bulk(
    world: World, body: dict[str, Any], *, role: str = "partner", org: str = "brand-1"
) -> Any:
    return await world.reports(role, org).post(PATH, json=body, headers=key())


@pytest.mark.parametrize(
    ("role", "status"),
    [("partner", 200), ("participant", 200), ("factory", 403), ("advisor", 403)],
)
async def test_who_may_ask_in_bulk(world: World, role: str, status: int) -> None:
    factory_id = await world.factory()
    org = factory_id if role == "factory" else "buyer-1"
    reply = await bulk(world, {"factory_ids": [factory_id]}, role=role, org=org)
    assert reply.status_code == status, reply.text
    if status == 403:
        assert reply.headers["content-type"] == "application/problem+json"


# The buyer's position before the call → the row's outcome and the request's status after.
STATES: list[tuple[str, str, str | None]] = [
    ("new", "requested", "pending"),
    ("pending", "already_requested", "pending"),
    ("approved", "already_approved", "approved"),
    ("declined", "requested", "pending"),
    ("revoked", "requested", "pending"),
    ("not enrolled", "not_enrolled", None),
    ("unknown", "unknown", None),
]


async def _position(world: World, state: str) -> str:
    if state == "unknown":
        return f"fac_unknown_{uuid.uuid4().hex[:6]}"
    factory_id = await world.factory(enrolled=state != "not enrolled")
    if state in ("pending", "approved", "declined", "revoked"):
        request = await world.request_tpa("partner", "brand-1", factory_id)
        if state != "pending":
            await world.decide_tpa(
                factory_id, request["id"], "approve" if state != "declined" else "decline"
            )
        if state == "revoked":
            await world.decide_tpa(factory_id, request["id"], "revoke")
    return factory_id


async def test_each_row_gets_its_outcome(world: World, api: Api) -> None:
    ids = [await _position(world, state) for state, _, _ in STATES]
    await take_in(api)
    reply = await bulk(world, {"factory_ids": ids})
    body = ok(reply)
    got = [
        (item["row"], item["factory_id"], item["outcome"], item["status"]) for item in body["items"]
    ]
    assert got == [
        (i, factory_id, outcome, status)
        for i, (factory_id, (_, outcome, status)) in enumerate(zip(ids, STATES, strict=True))
    ]
    assert body["summary"] == {
        "requested": 3,
        "already_requested": 1,
        "already_approved": 1,
        "not_enrolled": 1,
        "unknown": 1,
    }
    asked = {ids[i] for i, (_, outcome, _) in enumerate(STATES) if outcome == "requested"}
    # The buyer's list says the same; the factories asked were notified and got the event.
    mine = ok(
        await world.reports("partner", "brand-1").get("/access-requests", params={"limit": 50})
    )
    assert {r["factory_id"]: r["status"] for r in mine["items"]} == {
        ids[i]: status for i, (_, _, status) in enumerate(STATES) if status is not None
    }
    await take_in(api)
    for factory_id in asked:
        notes = ok(
            await world.reports("factory", factory_id).get(
                "/notifications", params={"kind": "tpa_requested"}
            )
        )
        assert notes["items"] and "brand-1 (partner)" in notes["items"][-1]["message"]
    events = (await feed(api.client("integrations", role="partner", org="brand-1"), limit=500))[
        "items"
    ]
    created = [e for e in events if e["type"] == "access_request.created"]
    # One per request made before (pending, approved, declined, revoked), one per row now.
    assert sorted(e["data"]["factory_id"] for e in created[-3:]) == sorted(asked)
    assert len(created) == 4 + 3


async def test_duplicates_in_the_input_are_one_request(world: World) -> None:
    factory_id = await world.factory()
    body = ok(await bulk(world, {"factory_ids": [factory_id, factory_id]}))
    [first, second] = body["items"]
    assert first["access_request_id"] == second["access_request_id"]
    assert (first["row"], second["row"]) == (0, 1)


async def test_from_a_scoped_factory_list(world: World, api: Api) -> None:
    enrolled = await world.factory(name="Lotus Garments Ltd")
    await world.factory(name="Orchid Knitwear", enrolled=False)
    eligibility = api.client("eligibility", role="partner", org="brand-1")
    upload = {
        "factories": [
            {"client_ref": "S-1", "country": "BD", "name": "Lotus Garments"},
            {"client_ref": "S-2", "country": "BD", "name": "Orchid Knitwear Ltd"},
            {"client_ref": "S-3", "country": "BD", "name": "Nobody Known Anywhere"},
        ]
    }
    scoped = ok(await eligibility.post("/factory-lists", json=upload), 201)
    body = ok(await bulk(world, {"factory_list_id": scoped["id"]}))
    assert [(i["client_ref"], i["outcome"]) for i in body["items"]] == [
        ("S-1", "requested"),
        ("S-2", "not_enrolled"),
        ("S-3", "unknown"),
    ]
    assert body["items"][0]["factory_id"] == enrolled
    assert body["items"][2]["factory_id"] is None
    # Another organisation's list is not yours to use (404, as if it did not exist).
    other = await bulk(world, {"factory_list_id": scoped["id"]}, org="brand-2")
    assert other.status_code == 404, other.text
    missing = await bulk(world, {"factory_list_id": "fls_nothing"})
    assert missing.status_code == 404


async def test_more_than_1000_is_422_naming_the_limit(world: World, api: Api) -> None:
    too_many = await bulk(world, {"factory_ids": [f"fac_{i}" for i in range(1001)]})
    assert too_many.status_code == 422 and "1000" in too_many.text
    eligibility = api.client("eligibility", role="partner", org="brand-1")
    upload = {"factories": [{"client_ref": str(i), "country": "MG"} for i in range(1001)]}
    scoped = ok(await eligibility.post("/factory-lists", json=upload), 201)
    reply = await bulk(world, {"factory_list_id": scoped["id"]})
    assert reply.status_code == 422
    assert "1,001 rows" in reply.json()["detail"] and "1,000" in reply.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"factory_ids": []},
        {"factory_ids": ["a"], "factory_list_id": "b"},
        {"factory_ids": ["bad id"]},
    ],
)
async def test_bad_bodies_are_422(world: World, body: dict[str, Any]) -> None:
    reply = await bulk(world, body)
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == "application/problem+json"


async def test_one_idempotency_key(world: World) -> None:
    factory_id = await world.factory()
    client = world.reports("participant", "buyer-1")
    body = {"factory_ids": [factory_id]}
    assert (await client.post(PATH, json=body)).status_code == 400  # no key
    headers = key()
    first = await client.post(PATH, json=body, headers=headers)
    again = await client.post(PATH, json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert first.json()["items"][0]["outcome"] == "requested"
    other = await client.post(PATH, json={"factory_ids": [factory_id, "x"]}, headers=headers)
    assert other.status_code == 422
    # A new key asks again: the request is pending now.
    later = ok(await client.post(PATH, json=body, headers=key()))
    assert later["items"][0]["outcome"] == "already_requested"


async def test_a_thousand_factories_in_one_call(world: World, api: Api) -> None:
    """Speed: the registry seeded directly (1,000 API calls would test the set-up, not this)."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    rows = [
        {
            "id": f"fac_bulk_{tag}_{i:04d}",
            "name": f"Bulk Mill {tag} {i}",
            "match_name": f"bulk mill {tag} {i}",
            "country": "VN",
            "enrolment_status": "enrolled" if i % 10 else "registered",
            "created_by": "tests",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1000)
    ]
    async with api.apps["eligibility"].state.sessionmaker() as session:
        await session.execute(sa.insert(Factory), rows)
        await session.commit()
    ids = [row["id"] for row in rows]
    started = time.perf_counter()
    body = ok(await bulk(world, {"factory_ids": ids}))
    elapsed = time.perf_counter() - started
    assert body["summary"]["requested"] == 900 and body["summary"]["not_enrolled"] == 100
    print(f"\nbulk access request, 1,000 factories: {elapsed * 1000:.0f} ms")
    assert elapsed < 5.0  # measured ~0.3-0.6 s on the 2-core test machine
    again = ok(await bulk(world, {"factory_ids": ids}))
    assert again["summary"]["already_requested"] == 900
