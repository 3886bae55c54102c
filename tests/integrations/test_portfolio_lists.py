"""Factories on a brand's factory lists are in its portfolio (`listed`), with its
eligibility decisions and the coverage they give (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.events import eligibility as eligibility_events
from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.portfolio_world import World, rows, summary
from tests.integrations.world import take_in

BRAND = "brand-lists"


def _eligibility(api: Api, role: str = "partner", org: str = BRAND) -> Any:
    return api.client("eligibility", role=role, org=org)


async def test_a_lists_matches_are_listed_with_their_decisions(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small bound, so the five matches travel in three events (2 + 2 + 1).
    monkeypatch.setattr(eligibility_events, "DECISIONS_PER_EVENT", 2)
    world = World(api)
    enrolled = [await world.factory(country=c) for c in ("BD", "BD", "KH")]
    registered = [await world.factory(country="VN", enrolled=False) for _ in range(2)]
    unlisted = await world.factory(country="BD")
    body = {
        "factories": [{"country": c, "factory_id": f} for c, f in
                      zip(("BD", "BD", "KH", "VN", "VN"), enrolled + registered, strict=True)]
        + [{"country": "BD", "name": "No Such Mill Anywhere"}],
    }  # fmt: skip
    listed = ok(await _eligibility(api).post("/factory-lists", json=body), 201)
    await take_in(api)

    client = api.client("integrations", role="partner", org=BRAND)
    events = ok(await client.get("/events", params={"limit": 500}))["items"]
    decided = [e for e in events if e["type"] == "eligibility.decided"]
    assert [(e["data"]["part"], e["data"]["parts"]) for e in decided] == [(1, 3), (2, 3), (3, 3)]
    assert all(e["data"]["factory_list_id"] == listed["id"] for e in decided)
    assert sum(len(e["data"]["decisions"]) for e in decided) == 5

    found = await rows(api, "partner", BRAND)
    assert set(found) == {*enrolled, *registered}  # the unmatched row is no factory
    assert unlisted not in found
    for factory_id in enrolled:
        assert found[factory_id]["relations"] == ["listed"]
        assert found[factory_id]["eligibility_status"] == "enrolled"
    for factory_id in registered:
        assert found[factory_id]["eligibility_status"] not in (None, "enrolled")
    body_summary = await summary(api, "partner", BRAND)
    assert body_summary["coverage"] == {"factories": 5, "in_better_work": 3, "share": 0.6}
    # Another brand's list is not this brand's.
    assert await rows(api, "partner", "brand-other") == {}


async def test_a_check_sets_the_status_but_is_no_relation(api: Api) -> None:
    world = World(api)
    factory_id = await world.factory(country="BD")
    checked_only = await world.factory(country="BD")
    await world.request_tpa("participant", "buyer-7", factory_id)
    eligibility = _eligibility(api, "participant", "buyer-7")
    for target in (factory_id, checked_only):
        ok(await eligibility.post("/checks", json={"country": "BD", "factory_id": target}))
    found = await rows(api, "participant", "buyer-7")
    assert set(found) == {factory_id}
    assert found[factory_id]["eligibility_status"] == "enrolled"
    assert found[factory_id]["relations"] == ["tpa_requested"]
    # An advisor's check is no buyer's news.
    ok(await _eligibility(api, "advisor", "bw").post(
        "/checks", json={"country": "BD", "factory_id": checked_only}
    ))  # fmt: skip
    advisors = await rows(api, "advisor", "bw")
    assert advisors[factory_id]["eligibility_status"] is None
    other = await rows(api, "participant", "buyer-8")
    assert factory_id not in other
    summary_body = await summary(api, "participant", "buyer-7")
    assert summary_body["coverage"] == {"factories": 0, "in_better_work": 0, "share": None}
