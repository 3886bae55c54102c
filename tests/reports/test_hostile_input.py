"""Input no client should send still gets a clear problem, never a 500 (issue 9): forged
cursors on every list (the public portal too, without a token), NUL bytes in ids and text."""

from __future__ import annotations

import pytest

from tests.helpers import ADVISOR_ORG, key
from tests.hostile import FORGED_CURSORS, assert_cursor_refused, problem
from tests.reports.world import World

# (role, org, path): a caller that may read the list. None: the public portal, no token.
LISTS: list[tuple[str | None, str, str]] = [
    (None, "", "/public/factories"),
    ("partner", "brand-1", "/access-requests"),
    ("advisor", ADVISOR_ORG, "/access-requests"),
    ("partner", "brand-1", "/unlocks"),
    ("participant", "buyer-1", "/shares"),
    ("partner", "brand-1", "/memberships"),
    ("advisor", ADVISOR_ORG, "/notifications"),
    ("advisor", ADVISOR_ORG, "/factories/fac-1/cycles"),
    ("advisor", ADVISOR_ORG, "/factories/fac-1/cycles/1/reports"),
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
@pytest.mark.parametrize(("role", "org", "path"), LISTS)
async def test_forged_cursors_are_400(
    world: World, role: str | None, org: str, path: str, cursor: str
) -> None:
    client = world.reports(role, org) if role else world.api.client("reports")
    assert_cursor_refused(await client.get(path, params={"cursor": cursor}))


async def test_real_cursors_still_page_and_stay_with_their_list(world: World) -> None:
    factory_id = await world.factory()
    for cycle in (1, 2, 3):
        await world.open_cycle(factory_id, cycle)
    path = f"/factories/{factory_id}/cycles"
    first = (await world.advisor.get(path, params={"limit": 2})).json()
    assert [c["cycle"] for c in first["items"]] == [1, 2]
    rest = (await world.advisor.get(path, params={"cursor": first["next_cursor"]})).json()
    assert [c["cycle"] for c in rest["items"]] == [3]
    assert rest["next_cursor"] is None
    assert_cursor_refused(
        await world.advisor.get("/notifications", params={"cursor": first["next_cursor"]})
    )


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("advisor", "GET", "/reports/doc%00x"),
        ("partner", "GET", "/access-requests/tpa%00x"),
        ("factory", "POST", "/access-requests/tpa%00x/approve"),
        (None, "GET", "/public/factories/fac%00x"),
        ("advisor", "GET", "/factories/fac%00x/cycles"),
        ("partner", "GET", "/access-requests?factory_id=fac%00x"),
        ("partner", "GET", "/unlocks?factory_id=fac%00x"),
        ("partner", "POST", "/memberships/a%00b/approve"),
        ("advisor", "PATCH", "/improvement-plan-items/pie%00x"),
        ("factory", "DELETE", "/progress-documents/pdc%00x"),
        ("advisor", "GET", "/reports/" + "d" * 129),
    ],
)
async def test_control_characters_in_ids_are_422(
    world: World, role: str | None, method: str, path: str
) -> None:
    client = world.reports(role, "org-1") if role else world.api.client("reports")
    problem(await client.request(method, path, json={}, headers=key()), 422)


@pytest.mark.parametrize(
    "body",
    [
        {"factory_id": "fac\u0000x"},
        {"factory_id": "fac\u0000x", "cycle": 1},
        {"factory_id": "fac-1", "cycle": 1, "with_org": "brand\u00002"},
    ],
    ids=["access-request", "unlock", "share"],
)
async def test_nul_in_posted_ids_is_422(world: World, body: dict[str, object]) -> None:
    path = {1: "/access-requests", 2: "/unlocks", 3: "/shares"}[len(body)]
    client = world.reports("partner", "brand-1")
    problem(await client.post(path, json=body, headers=key()), 422)
