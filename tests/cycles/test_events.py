"""Cycles' events on the integrations feed, table-driven: for each event type, exactly the
callers that may read the thing it is about see it (domain/visibility.py), and a planned
assessment reaches advisors only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cycles.world import World, days_ago, today
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import feed, take_in

# Who asks the feed: (role, org, countries); `{factory}` is the test's factory.
READERS: dict[str, tuple[str, str, list[str] | None]] = {
    "factory own": ("factory", "{factory}", None),
    "factory other": ("factory", "fac_other", None),
    "buyer with TPA": ("partner", "brand-1", None),
    "buyer without TPA": ("participant", "buyer-2", None),
    "advisor BD": ("advisor", "bw", ["BD"]),
    "advisor KH": ("advisor", "bw", ["KH"]),
    "advisor *": ("advisor", "bw", ["*"]),
}
ADVISORS = {"advisor BD", "advisor *"}
EVERYONE_WHO_MAY = ADVISORS | {"factory own", "buyer with TPA"}

# (label, event type): who sees it. The steps are in the test, in this order.
EXPECTED: list[tuple[str, str, set[str]]] = [
    ("cycle 2 opened", "cycle.opened", EVERYONE_WHO_MAY),
    ("advisory visit planned", "visit.scheduled", EVERYONE_WHO_MAY),
    ("assessment planned", "visit.scheduled", ADVISORS),
    ("brand-1 asks to shadow an advisory visit", "visit.requested", EVERYONE_WHO_MAY),
    # Other buyers' joint visits are shown to TPA holders (without the buyer's name).
    ("buyer-2's joint visit recorded", "visit.scheduled", EVERYONE_WHO_MAY),
    ("advisory visit cancelled", "visit.cancelled", EVERYONE_WHO_MAY),
    ("assessment cancelled", "visit.cancelled", ADVISORS),
    ("assessment planned again", "visit.scheduled", ADVISORS),
    ("assessment held", "visit.completed", EVERYONE_WHO_MAY),
]


async def _seen(api: Api, who: str, factory_id: str) -> list[tuple[str, str]]:
    role, org, countries = READERS[who]
    client = api.client(
        "integrations", role=role, org=org.format(factory=factory_id), countries=countries
    )
    items = (await feed(client, limit=500))["items"]
    return [(e["type"], e["subject"]["id"]) for e in items if e["source"] == "cycles"]


async def test_each_event_reaches_exactly_its_audience(world: World, api: Api) -> None:
    factory_id = await world.factory()
    first = await world.open_cycle(factory_id, days_ago(500))
    await world.approve_tpa(factory_id, buyer="brand-1", role="partner")
    await world.unlock(factory_id, 1, buyer="brand-1", role="partner")
    # brand-1 becomes known to cycles (a joint visit in cycle 1); buyer-2 too, without a TPA.
    await world.visit(first["id"], "joint_advisory", days_ago(480), buyer_org="brand-1")
    await world.visit(first["id"], "joint_advisory", days_ago(470), buyer_org="buyer-2")
    await take_in(api)
    before = {who: len(await _seen(api, who, factory_id)) for who in READERS}

    start = days_ago(95)
    cycle = await world.open_cycle(factory_id, start)
    c = cycle["id"]
    subjects = [c]
    advisory = await world.visit(c, "advisory", today() + timedelta(days=5))
    subjects.append(advisory["id"])
    planned = await world.visit(c, "assessment", start + timedelta(days=97))
    subjects.append(planned["id"])
    await world.unlock(factory_id, 2, buyer="brand-1", role="partner")
    shadow = ok(
        await world.cycles("partner", "brand-1").post(
            f"/cycles/{c}/visits",
            json={"type": "shadow_advisory", "date": (today() + timedelta(days=6)).isoformat()},
        ),
        201,
    )
    subjects.append(shadow["id"])
    joint = await world.visit(c, "joint_advisory", today() + timedelta(days=8), buyer_org="buyer-2")
    subjects.append(joint["id"])
    ok(await world.advisor.post(f"/cycles/{c}/visits/{advisory['id']}/cancel"))
    subjects.append(advisory["id"])
    ok(await world.advisor.post(f"/cycles/{c}/visits/{planned['id']}/cancel"))
    subjects.append(planned["id"])
    again = await world.visit(c, "assessment", start + timedelta(days=96))
    subjects.append(again["id"])
    ok(
        await world.advisor.post(
            f"/cycles/{c}/visits/{again['id']}/complete",
            json={"date": (today() - timedelta(days=1)).isoformat()},
        )
    )
    subjects.append(again["id"])
    await take_in(api)

    everything = (await _seen(api, "advisor *", factory_id))[before["advisor *"] :]
    assert everything == [
        (event_type, subject)
        for (_, event_type, _), subject in zip(EXPECTED, subjects, strict=True)
    ]
    for who in READERS:
        seen = (await _seen(api, who, factory_id))[before[who] :]
        expected = [
            pair
            for (_, _, audience), pair in zip(EXPECTED, everything, strict=True)
            if who in audience
        ]
        assert seen == expected, who


async def test_the_buyer_without_tpa_and_other_factories_see_nothing(
    world: World, api: Api
) -> None:
    factory_id = await world.factory()
    await world.open_cycle(factory_id, days_ago(30))
    await take_in(api)
    for who in ("factory other", "buyer without TPA", "advisor KH"):
        assert await _seen(api, who, factory_id) == [], who
    [(event_type, _)] = await _seen(api, "factory own", factory_id)
    assert event_type == "cycle.opened"


async def test_updated_since_never_shows_the_planned_assessment(world: World, api: Api) -> None:
    factory_id = await world.factory()
    start = days_ago(95)
    cycle = await world.open_cycle(factory_id, start)
    await world.approve_tpa(factory_id, buyer="brand-1", role="partner")
    path = f"/factories/{factory_id}/cycles"
    since = datetime.now(UTC).isoformat()
    await world.visit(cycle["id"], "assessment", start + timedelta(days=97))
    readers = {
        "advisor": world.advisor,
        "factory": world.cycles("factory", factory_id),
        "buyer": world.cycles("partner", "brand-1"),
    }
    seen = {
        who: [c["id"] for c in ok(await client.get(path, params={"updated_since": since}))["items"]]
        for who, client in readers.items()
    }
    assert seen == {"advisor": [cycle["id"]], "factory": [], "buyer": []}
    await world.visit(cycle["id"], "advisory", today() + timedelta(days=3))
    for who, client in readers.items():
        items = ok(await client.get(path, params={"updated_since": since}))["items"]
        assert [c["id"] for c in items] == [cycle["id"]], who
    everything = ok(await world.advisor.get(path, params={"updated_since": "2000-01-01T00:00:00Z"}))
    assert len(everything["items"]) == 1
    naive = await world.advisor.get(path, params={"updated_since": "2025-01-01T00:00:00"})
    assert naive.status_code == 422
