"""Reports' events (issue 10): every change a user wants to hear about is an event, recorded
with the change, for exactly the audience the reports service's read rules give it — seen
here through the integrations feed, as integrators see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.cycles.test_unannounced import spellings
from tests.cycles.world import World as CyclesWorld
from tests.cycles.world import days_ago
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import feed, take_in
from tests.reports.world import World

BUYER, OTHER = "buyer-1", "buyer-2"

# Who looks at the feed: (role, org or None for "the factory", advisor countries).
ACTORS: dict[str, tuple[str, str | None, list[str] | None]] = {
    "buyer": ("participant", BUYER, None),
    "other buyer": ("participant", OTHER, None),
    "factory": ("factory", None, None),
    "advisor BD": ("advisor", "bw", ["BD"]),
    "advisor KH": ("advisor", "bw", ["KH"]),
    "advisor *": ("advisor", "bw", ["*"]),
}


def reader(api: Api, actor: str, factory_id: str) -> httpx.AsyncClient:
    role, org, countries = ACTORS[actor]
    return api.client("integrations", role=role, org=org or factory_id, countries=countries)


async def events_of(api: Api, actor: str, factory_id: str, event_type: str) -> list[Any]:
    page = await feed(reader(api, actor, factory_id), types=event_type, limit=500)
    return list(page["items"])


@dataclass(frozen=True)
class Case:
    """A change, made by `make` (which returns the subject id of its event), and who may
    hear of it."""

    name: str
    event_type: str
    make: Callable[[World, str], Awaitable[str]]
    seen_by: frozenset[str]


async def _requested(world: World, factory_id: str) -> str:
    return str((await world.request_tpa("participant", BUYER, factory_id))["id"])


def _decided(action: str, *before: str) -> Callable[[World, str], Awaitable[str]]:
    async def make(world: World, factory_id: str) -> str:
        request_id = await _requested(world, factory_id)
        for earlier in before:
            await world.decide_tpa(factory_id, request_id, earlier)
        await world.decide_tpa(factory_id, request_id, action)
        return request_id

    return make


async def _released_to_an_unlocker(world: World, factory_id: str) -> str:
    """PR2 released after the buyer unlocked the cycle: the buyer may read it."""
    await world.open_cycle(factory_id)
    await world.released_assessment(factory_id)
    await world.grant_tpa("participant", BUYER, factory_id)
    await world.grant_tpa("participant", OTHER, factory_id)  # approved, not unlocked
    await world.buy_credits(BUYER, 1)
    ok(await world.unlock("participant", BUYER, factory_id), 201)
    report = await world.draft(factory_id, kind="progress_report_2")
    await world.release(report["id"])
    return str(report["id"])


async def _released_before_any_unlock(world: World, factory_id: str) -> str:
    await world.open_cycle(factory_id)
    await world.grant_tpa("participant", BUYER, factory_id)  # may unlock, has not
    return str((await world.released_assessment(factory_id))["id"])


async def _unlocked(world: World, factory_id: str, *, other_approved: bool = True) -> str:
    await world.open_cycle(factory_id)
    await world.grant_tpa("participant", BUYER, factory_id)
    if other_approved:  # the other buyer may unlock, but has not
        await world.grant_tpa("participant", OTHER, factory_id)
    await world.buy_credits(BUYER, 1)
    return str(ok(await world.unlock("participant", BUYER, factory_id), 201)["id"])


def _shared(recipient_approved: bool) -> Callable[[World, str], Awaitable[str]]:
    async def make(world: World, factory_id: str) -> str:
        await _unlocked(world, factory_id, other_approved=recipient_approved)
        if not recipient_approved:
            request = await world.request_tpa("participant", OTHER, factory_id)
            await world.decide_tpa(factory_id, request["id"], "decline")
        body = {"factory_id": factory_id, "cycle": 1, "with_org": OTHER}
        return str(
            ok(await world.reports("participant", BUYER).post("/shares", json=body), 201)["id"]
        )

    return make


async def _alert(world: World, factory_id: str) -> str:
    await world.grant_tpa("partner", BUYER, factory_id)
    await world.request_tpa("partner", OTHER, factory_id)  # pending: not told
    reply = await world.advisor.post(
        f"/factories/{factory_id}/zero-tolerance-alerts", json={"summary": "Locked exit"}
    )
    return str(ok(reply, 201)["id"])


async def _new_plan_item(world: World, factory_id: str) -> str:
    path = f"/factories/{factory_id}/cycles/1/improvement-plan/items"
    body = {"title": "Unlock exit B", "due_date": "2020-01-01"}
    return str(ok(await world.advisor.post(path, json=body), 201)["id"])


async def _plan_item(world: World, factory_id: str) -> str:
    """An item of a cycle the buyer unlocked: its readers hear of it, as of a release."""
    await _released_to_an_unlocker(world, factory_id)
    return await _new_plan_item(world, factory_id)


async def _plan_item_before_any_unlock(world: World, factory_id: str) -> str:
    await _released_before_any_unlock(world, factory_id)
    return await _new_plan_item(world, factory_id)


PARTIES = frozenset({"buyer", "factory", "advisor BD", "advisor *"})
ONLY_BUYER = frozenset({"buyer", "advisor BD", "advisor *"})
CASES = [
    Case("access request created", "access_request.created", _requested, PARTIES),
    Case("access request approved", "access_request.approved", _decided("approve"), PARTIES),
    Case("access request declined", "access_request.declined", _decided("decline"), PARTIES),
    Case(
        "access request revoked",
        "access_request.revoked",
        _decided("revoke", "approve"),
        PARTIES,
    ),
    Case("report released to its readers", "report.released", _released_to_an_unlocker, PARTIES),
    Case(
        "report released, nobody unlocked",
        "report.released",
        _released_before_any_unlock,
        frozenset({"factory", "advisor BD", "advisor *"}),
    ),
    Case("unlock created", "unlock.created", _unlocked, ONLY_BUYER),
    Case(
        "share with an approved recipient",
        "share.created",
        _shared(True),
        ONLY_BUYER | {"other buyer"},
    ),
    Case("share with a recipient without TPA", "share.created", _shared(False), ONLY_BUYER),
    Case("zero-tolerance alert", "zero_tolerance_alert.raised", _alert, ONLY_BUYER),
    Case("plan item, cycle unlocked", "improvement_plan_item.created", _plan_item, PARTIES),
    Case(
        "plan item, nobody unlocked",
        "improvement_plan_item.created",
        _plan_item_before_any_unlock,
        frozenset({"factory", "advisor BD", "advisor *"}),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_who_hears_of_it(world: World, api: Api, case: Case) -> None:
    factory_id = await world.factory(country="BD")
    subject = await case.make(world, factory_id)
    await take_in(api)
    for actor in ACTORS:
        found = [
            e
            for e in await events_of(api, actor, factory_id, case.event_type)
            if e["subject"]["id"] == subject
        ]
        expected = 1 if actor in case.seen_by else 0
        assert len(found) == expected, f"{case.name}: {actor} sees {len(found)}"
    [event] = [
        e
        for e in await events_of(api, "advisor *", factory_id, case.event_type)
        if e["subject"]["id"] == subject
    ]
    assert event["source"] == "reports"
    assert event["data"]["factory_id"] == factory_id


async def test_the_payloads(world: World, api: Api) -> None:
    factory_id = await world.factory(country="BD")
    unlock_id = await _unlocked(world, factory_id)
    await take_in(api)
    by_type = {
        e["type"]: e for e in (await feed(reader(api, "buyer", factory_id), limit=500))["items"]
    }
    assert by_type["unlock.created"]["subject"] == {"type": "unlock", "id": unlock_id}
    assert by_type["unlock.created"]["data"] == {
        "unlock_id": unlock_id,
        "factory_id": factory_id,
        "cycle": 1,
        "buyer_org": BUYER,
        "charged_credits": 1,
        "footprint_year": None,
    }
    approved = by_type["access_request.approved"]
    assert approved["data"]["status"] == "approved"
    assert approved["data"]["buyer_org"] == BUYER
    assert approved["subject"]["type"] == "access_request"


async def test_share_never_names_the_sharer_to_the_recipient(world: World, api: Api) -> None:
    factory_id = await world.factory(country="BD")
    await _shared(True)(world, factory_id)
    await take_in(api)
    [event] = await events_of(api, "other buyer", factory_id, "share.created")
    assert BUYER not in str(event)


class TestNoChangeNoEvent:
    async def test_a_refused_unlock_records_none(self, world: World, api: Api) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        await world.grant_tpa("participant", BUYER, factory_id)
        assert (await world.unlock("participant", BUYER, factory_id)).status_code == 402
        other = await world.factory()  # no TPA: refused before anything is reserved
        await world.open_cycle(other)
        assert (await world.unlock("participant", BUYER, other)).status_code in (403, 404)
        await take_in(api)
        assert await events_of(api, "advisor *", factory_id, "unlock.created") == []

    async def test_repeats_and_refusals_record_none(self, world: World, api: Api) -> None:
        factory_id = await world.factory()
        await world.open_cycle(factory_id)
        request = await world.request_tpa("participant", BUYER, factory_id)
        await world.request_tpa("participant", BUYER, factory_id)  # pending already
        await world.decide_tpa(factory_id, request["id"], "approve")
        await world.decide_tpa(factory_id, request["id"], "approve")  # approved already
        refused = await world.reports("factory", factory_id).post(
            f"/access-requests/{request['id']}/decline"
        )
        assert refused.status_code == 409
        report = await world.released_assessment(factory_id)
        await world.release(report["id"])  # released already
        await world.buy_credits(BUYER, 2)
        ok(await world.unlock("participant", BUYER, factory_id), 201)
        ok(await world.unlock("participant", BUYER, factory_id), 200)  # the same unlock
        await take_in(api)
        types = [
            e["type"]
            for e in (await feed(reader(api, "advisor *", factory_id), limit=500))["items"]
            if e["source"] == "reports"
        ]
        assert sorted(types) == sorted(
            [
                "access_request.created",
                "access_request.approved",
                "report.released",
                # The released assessment's non-compliant findings open plan items.
                *["improvement_plan_item.created"] * 2,
                "unlock.created",
            ]
        )
        assert await world.balance(BUYER) == 1


async def test_events_never_carry_the_planned_assessment_date(world: World, api: Api) -> None:
    """A cycle opened by the cycles service, its unannounced assessment planned: no event of
    reports (release, unlock, share, access, alert) carries that date in any spelling."""
    cycles = CyclesWorld(api)
    factory_id = await cycles.factory()
    start = days_ago(95)
    cycle = await cycles.open_cycle(factory_id, start)
    planned = start + timedelta(days=97)
    await cycles.visit(cycle["id"], "assessment", planned)
    await world.grant_tpa("participant", BUYER, factory_id)
    await world.grant_tpa("partner", OTHER, factory_id)
    await world.released_assessment(factory_id)
    await world.buy_credits(BUYER, 1)
    ok(await world.unlock("participant", BUYER, factory_id), 201)
    body = {"factory_id": factory_id, "cycle": 1, "with_org": OTHER}
    ok(await world.reports("participant", BUYER).post("/shares", json=body), 201)
    ok(
        await world.advisor.post(
            f"/factories/{factory_id}/zero-tolerance-alerts", json={"summary": "Locked exit"}
        ),
        201,
    )
    await world.release((await world.draft(factory_id, kind="progress_report_2"))["id"])
    await take_in(api)
    reports_types = {"report.released", "unlock.created", "share.created"}
    for actor in ("buyer", "other buyer", "factory"):
        client = reader(api, actor, factory_id)
        items = (await feed(client, limit=500))["items"]
        mine = [e for e in items if e["source"] == "reports"]
        assert mine, actor
        if actor != "factory":
            assert reports_types <= {e["type"] for e in mine} | {"unlock.created"}
        if actor == "buyer":
            assert "unlock.created" in {e["type"] for e in mine}
        text = (await client.get("/events", params={"limit": 500})).text.lower()
        for spelling in spellings(planned):
            assert spelling.lower() not in text, f"{actor}'s feed reveals {planned} as {spelling}"


class TestUpdatedSince:
    async def test_access_requests_changed_since(self, world: World) -> None:
        first = await world.factory()
        second = await world.factory()
        early = await world.request_tpa("participant", BUYER, first)
        moment = datetime.now(UTC)
        late = await world.request_tpa("participant", BUYER, second)
        buyer = world.reports("participant", BUYER)
        since = {"updated_since": moment.isoformat()}
        assert [
            r["id"] for r in ok(await buyer.get("/access-requests", params=since))["items"]
        ] == [late["id"]]
        await world.decide_tpa(first, early["id"], "approve")  # a change: in the list again
        changed = ok(await buyer.get("/access-requests", params=since))["items"]
        assert sorted(r["id"] for r in changed) == sorted([early["id"], late["id"]])
        assert all(r["updated_at"] >= moment.isoformat()[:19] for r in changed)
        future = {"updated_since": (moment + timedelta(days=1)).isoformat()}
        assert ok(await buyer.get("/access-requests", params=future))["items"] == []

    async def test_unlocks_activated_since(self, world: World) -> None:
        first, _ = await world.readable_factory("participant", BUYER)
        moment = datetime.now(UTC)
        second, _ = await world.readable_factory("participant", BUYER)
        buyer = world.reports("participant", BUYER)
        every = ok(await buyer.get("/unlocks"))["items"]
        assert {u["factory_id"] for u in every} == {first, second}
        since = ok(await buyer.get("/unlocks", params={"updated_since": moment.isoformat()}))
        assert [u["factory_id"] for u in since["items"]] == [second]
        assert since["items"][0]["completed_at"] is not None

    @pytest.mark.parametrize(
        "value",
        [
            "2026-11-29T06:00:00",
            "yesterday",
            "0.5",
            "1764396000",
            "2026-13-01T00:00:00Z",
            "0001-01-01T00:00:00+14:00",
        ],
    )
    async def test_needs_an_rfc3339_datetime(self, world: World, value: str) -> None:
        for path in ("/access-requests", "/unlocks"):
            reply = await world.reports("participant", BUYER).get(
                path, params={"updated_since": value}
            )
            assert reply.status_code == 422, (path, value, reply.text)
            assert reply.headers["content-type"] == "application/problem+json"
