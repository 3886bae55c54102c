"""Every column's access rule, across roles and TPA states (issue 11): a row is there
only while a relation is, and shows only what the owning services let the viewer read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.portfolio_world import BUYER, OTHER, World, portfolio, rows

ALL = {"Compensation": 1, "Occupational Safety and Health": 1}
PUBLIC = {"Occupational Safety and Health": 1}

Setup = Callable[[World, str], Awaitable[None]]


async def _pending(world: World, factory_id: str) -> None:
    await world.request_tpa("participant", BUYER, factory_id)


async def _approved(world: World, factory_id: str) -> None:
    await world.grant_tpa("participant", BUYER, factory_id)


async def _declined(world: World, factory_id: str) -> None:
    request = await world.request_tpa("participant", BUYER, factory_id)
    await world.decide_tpa(factory_id, request["id"], "decline")


async def _revoked(world: World, factory_id: str) -> None:
    request = await world.grant_tpa("participant", BUYER, factory_id)
    await world.decide_tpa(factory_id, request["id"], "revoke")


async def _unlocked(world: World, factory_id: str) -> None:
    await world.grant_tpa("participant", BUYER, factory_id)
    await world.buy_credits(BUYER, 1)
    ok(await world.unlock("participant", BUYER, factory_id), 201)


async def _unlocked_then_revoked(world: World, factory_id: str) -> None:
    await _unlocked(world, factory_id)
    request = (await world.request_tpa("participant", BUYER, factory_id))["id"]
    await world.decide_tpa(factory_id, request, "revoke")


async def _shared_with(world: World, factory_id: str, *, revoke: bool) -> None:
    """OTHER (approved TPA) gets cycle 1 shared by BUYER; `revoke`: then loses its TPA."""
    await _unlocked(world, factory_id)
    grant = await world.grant_tpa("participant", OTHER, factory_id)
    body = {"factory_id": factory_id, "cycle": 1, "with_org": OTHER}
    ok(await world.reports("participant", BUYER).post("/shares", json=body), 201)
    if revoke:
        await world.decide_tpa(factory_id, grant["id"], "revoke")


async def _shared(world: World, factory_id: str) -> None:
    await _shared_with(world, factory_id, revoke=False)


async def _shared_then_revoked(world: World, factory_id: str) -> None:
    await _shared_with(world, factory_id, revoke=True)


# (setup, viewer, expected row or None: no row) — the row's access-ruled columns.
CASES: list[tuple[str, Setup, str, dict[str, Any] | None]] = [
    ("pending", _pending, BUYER,
     {"relations": ["tpa_requested"], "tpa_state": "pending", "findings_basis": "public",
      "noncompliant_by_cluster": PUBLIC, "unlocked_cycles": []}),
    ("approved", _approved, BUYER,
     {"relations": ["tpa_approved"], "tpa_state": "approved", "findings_basis": "public",
      "noncompliant_by_cluster": PUBLIC, "unlocked_cycles": []}),
    ("declined", _declined, BUYER, None),
    ("revoked", _revoked, BUYER, None),
    ("unlocked", _unlocked, BUYER,
     {"relations": ["tpa_approved", "unlocked"], "tpa_state": "approved",
      "findings_basis": "report", "noncompliant_by_cluster": ALL, "unlocked_cycles": [1]}),
    # An unlock stays readable after the factory revokes access (reports' rule).
    ("unlocked, revoked", _unlocked_then_revoked, BUYER,
     {"relations": ["unlocked"], "tpa_state": "revoked", "findings_basis": "report",
      "noncompliant_by_cluster": ALL, "unlocked_cycles": [1], "current_cycle": None}),
    ("shared", _shared, OTHER,
     {"relations": ["tpa_approved", "shared"], "tpa_state": "approved",
      "findings_basis": "report", "noncompliant_by_cluster": ALL, "unlocked_cycles": []}),
    # A shared cycle is read only while the TPA is approved: revoking it removes them.
    ("shared, revoked", _shared_then_revoked, OTHER,
     {"relations": ["shared"], "tpa_state": "revoked", "findings_basis": "public",
      "noncompliant_by_cluster": PUBLIC, "unlocked_cycles": []}),
    ("someone else's TPA", _approved, OTHER, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "viewer", "expected"),
    [pytest.param(s, v, e, id=name) for name, s, v, e in CASES],
)
async def test_each_tpa_state_shows_what_it_may(
    api: Api, setup: Setup, viewer: str, expected: dict[str, Any] | None
) -> None:
    world = World(api)
    factory_id = await world.factory(country="BD", name="Portfolio Garments Ltd")
    await world.open_cycle(factory_id)
    await world.released_assessment(factory_id)
    await setup(world, factory_id)

    found = await rows(api, "participant", viewer)
    if expected is None:
        assert factory_id not in found
        return
    row = found[factory_id]
    assert {k: row[k] for k in expected} == expected
    assert row["name"] == "Portfolio Garments Ltd" and row["country"] == "BD"
    assert row["enrolment_status"] == "enrolled"
    assert row["high_performing"] is None  # classification is for factories and advisors
    assert row["latest_assessment_released_at"] is not None and row["as_of"]
    # A partner reads its rows by the same rules (the role does not widen them).
    assert await rows(api, "partner", viewer) == found


async def test_advisors_read_every_column_of_their_programmes(api: Api) -> None:
    world = World(api)
    bd = await world.factory(country="BD")
    kh = await world.factory(country="KH")
    for factory_id in (bd, kh):
        await world.open_cycle(factory_id)
        await world.released_assessment(factory_id)
    every = await rows(api, "advisor", "bw")
    assert {bd, kh} <= set(every)
    assert every[bd]["findings_basis"] == "report"
    assert every[bd]["noncompliant_by_cluster"] == ALL
    assert every[bd]["relations"] == [] and every[bd]["tpa_state"] is None
    only_kh = await rows(api, "advisor", "bw", countries=["KH"])
    assert set(only_kh) == {kh}


async def test_a_factory_cannot_read_a_portfolio(api: Api) -> None:
    world = World(api)
    factory_id = await world.factory()
    client = portfolio(api, "factory", factory_id)
    for path in ("/portfolio/factories", "/portfolio/summary", "/portfolio/factories/export.csv"):
        reply = await client.get(path)
        assert reply.status_code == 403, path
        assert reply.headers["content-type"] == "application/problem+json"


async def test_a_nomination_is_a_relation_while_active(api: Api) -> None:
    world = World(api)
    factory_id = await world.factory(country="BD", enrolled=False)
    partner = api.client("eligibility", role="partner", org="brand-1")
    nomination = ok(await partner.post("/nominations", json={"factory_id": factory_id}), 201)
    row = (await rows(api, "partner", "brand-1"))[factory_id]
    assert row["relations"] == ["nominated"] and row["enrolment_status"] == "registered"
    assert row["findings_basis"] is None and row["tpa_state"] is None
    ok(await partner.post(f"/nominations/{nomination['id']}/withdraw"))
    assert factory_id not in await rows(api, "partner", "brand-1")


# --- open improvement plan items overdue: the findings' rule, per item's cycle ----------

PAST, FUTURE = "2020-01-01", "2999-01-01"
PLAN = [  # (due date, status): two of them open and overdue
    (PAST, "open"),
    (PAST, "in_progress"),
    (FUTURE, "open"),
    (PAST, "done"),
    (None, "open"),
]


async def plan_items(world: World, factory_id: str, cycle: int = 1) -> list[str]:
    path = f"/factories/{factory_id}/cycles/{cycle}/improvement-plan/items"
    made = []
    for n, (due, status) in enumerate(PLAN):
        body = {"title": f"Item {n}", "due_date": due, "status": status}
        made.append(ok(await world.advisor.post(path, json=body), 201)["id"])
    return made


# (setup, viewer, overdue items the viewer reads: None where it may read no report)
PLAN_CASES: list[tuple[str, Setup, str, int | None]] = [
    ("pending", _pending, BUYER, None),
    ("approved", _approved, BUYER, None),
    ("unlocked", _unlocked, BUYER, 2),
    ("unlocked, revoked", _unlocked_then_revoked, BUYER, 2),
    ("shared", _shared, OTHER, 2),
    ("shared, revoked", _shared_then_revoked, OTHER, None),
]


@pytest.mark.parametrize(
    ("setup", "viewer", "expected"),
    [pytest.param(s, v, e, id=name) for name, s, v, e in PLAN_CASES],
)
async def test_overdue_plan_items_where_the_report_is_readable(
    api: Api, setup: Setup, viewer: str, expected: int | None
) -> None:
    world = World(api)
    factory_id = await world.factory(country="BD")
    await world.open_cycle(factory_id)
    await world.released_assessment(factory_id)
    await plan_items(world, factory_id)
    await setup(world, factory_id)
    row = (await rows(api, "participant", viewer))[factory_id]
    assert row["improvement_items_overdue"] == expected
    advisors = (await rows(api, "advisor", "bw"))[factory_id]
    assert advisors["improvement_items_overdue"] == 2


async def test_overdue_follows_the_items_changes(api: Api) -> None:
    world = World(api)
    factory_id = await world.factory(country="BD")
    await world.open_cycle(factory_id)
    await world.released_assessment(factory_id)
    await _unlocked(world, factory_id)
    made = await plan_items(world, factory_id)
    assert (await rows(api, "participant", BUYER))[factory_id]["improvement_items_overdue"] == 2
    # Closed (done), and another's due date moved into the past: still 2, then 1.
    ok(await world.advisor.patch(f"/improvement-plan-items/{made[0]}", json={"status": "done"}))
    ok(await world.advisor.patch(f"/improvement-plan-items/{made[2]}", json={"due_date": PAST}))
    assert (await rows(api, "participant", BUYER))[factory_id]["improvement_items_overdue"] == 2
    ok(await world.advisor.patch(f"/improvement-plan-items/{made[1]}", json={"status": "done"}))
    row = (await rows(api, "participant", BUYER))[factory_id]
    assert row["improvement_items_overdue"] == 1
    csv_text = (
        await portfolio(api, "participant", BUYER).get("/portfolio/factories/export.csv")
    ).text
    assert "improvement_items_overdue" in csv_text.splitlines()[0]
