"""Input no client should send still gets a clear problem, never a 500 (issue 9): forged
cursors on every list, NUL bytes in every id and text."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cycles.world import World, days_ago
from tests.helpers import key, ok
from tests.hostile import FORGED_CURSORS, assert_cursor_refused, problem

LISTS = ["/seminars", "/factories/fac-1/cycles", "/cycles/cyc-1/visits"]


@pytest.mark.parametrize("cursor", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
@pytest.mark.parametrize("path", LISTS)
async def test_forged_cursors_are_400(world: World, path: str, cursor: str) -> None:
    assert_cursor_refused(await world.advisor.get(path, params={"cursor": cursor}))


async def test_a_cycles_cursor_is_refused_by_the_visits_list(world: World) -> None:
    factory_id = await world.factory()
    first = await world.open_cycle(factory_id, days_ago(800))
    await world.open_cycle(factory_id, days_ago(10))
    page = ok(await world.advisor.get(f"/factories/{factory_id}/cycles", params={"limit": 1}))
    assert page["next_cursor"]
    visits = f"/cycles/{first['id']}/visits"
    assert_cursor_refused(await world.advisor.get(visits, params={"cursor": page["next_cursor"]}))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cycles/cyc%00x"),
        ("GET", "/cycles/cyc%00x/visits"),
        ("POST", "/cycles/cyc%00x/visits"),
        ("POST", "/cycles/cyc%00x/visits/vis%00x/complete"),
        ("POST", "/cycles/cyc-1/visits/vis%00x/cancel"),
        ("GET", "/cycles/cyc%00x/training"),
        ("POST", "/cycles/cyc%00x/training"),
        ("POST", "/cycles/cyc%00x/training/purchases"),
        ("GET", "/seminars/sem%00x"),
        ("POST", "/seminars/sem%00x/registrations"),
        ("POST", "/seminars/sem-1/registrations/reg%00x/action-plan"),
        ("GET", "/factories/fac%00x/cycles"),
        ("GET", "/factories/fac%00x/classification"),
        ("GET", "/cycles/" + "c" * 129),
    ],
)
async def test_control_characters_in_ids_are_422(world: World, method: str, path: str) -> None:
    reply = await world.advisor.request(method, path, json={}, headers=key())
    problem(reply, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"type": "assessment", "assessors": ["A\u0000"]},
        {"type": "assessment", "assessors": ["A"], "note": "n\u0000"},
        {"type": "advisory", "buyer_org": "b\u0000"},
    ],
)
async def test_nul_in_a_visit_is_422(world: World, body: dict[str, Any]) -> None:
    factory_id = await world.factory()
    cycle = await world.open_cycle(factory_id, days_ago(10))
    body = {"date": days_ago(1).isoformat(), **body}
    reply = await world.advisor.post(f"/cycles/{cycle['id']}/visits", json=body)
    found = problem(reply, 422)
    assert "control character" in found["detail"]
