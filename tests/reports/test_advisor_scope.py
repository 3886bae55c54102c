"""The advisor country scope in reports: an advisor reads and acts on a factory's data only
when the factory's country is in its token's `countries` claim (["*"]: every country; no
claim, or an empty one: none). Lists keep only the rows in scope; a single object of another
country is a 403 naming the country, as report documents always answered.

Table-driven: every advisor token below against every reports endpoint that reads or changes
factory data, on a BD factory (and a KH one for the lists)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shared.auth import mint_token
from tests.helpers import ADVISOR_ORG, ok
from tests.reports.world import World

# name → the token's `countries` claim (None: the token carries no claim at all)
CLAIMS: dict[str, list[str] | None] = {
    "KH": ["KH"],
    "BD": ["BD"],
    "*": ["*"],
    "KH+bd": ["KH", "bd"],
    "none": [],
    "no claim": None,
}
COVERS = {
    "BD": {"BD", "*", "KH+bd"},
    "KH": {"KH", "*", "KH+bd"},
}


def advisor(world: World, claim: str) -> httpx.AsyncClient:
    countries = CLAIMS[claim]
    client = world.reports("advisor", ADVISOR_ORG, countries=countries)
    if countries is None:  # the shared helper gives advisors ["*"] unless told otherwise
        token = mint_token(
            world.api.settings, sub="advisor-user@bw", org=ADVISOR_ORG, role="advisor"
        )
        client.headers["Authorization"] = f"Bearer {token}"
    return client


@dataclass(frozen=True)
class Scene:
    """A BD and a KH factory, each with report cycle 1 and a buyer's pending TPA request; the
    BD factory also has a released assessment (read once, so the process keeps it), a draft
    advisory log entry and improvement-plan items."""

    factories: dict[str, str]  # country → factory id
    tpa: dict[str, str]  # country → access request id
    released: str
    draft: str
    plan_item: str

    def fill(self, template: str) -> str:
        return template.format(
            bd=self.factories["BD"],
            tpa=self.tpa["BD"],
            released=self.released,
            draft=self.draft,
            item=self.plan_item,
        )


async def scene(world: World) -> Scene:
    factories = {country: await world.factory(country=country) for country in ("BD", "KH")}
    for factory_id in factories.values():
        await world.open_cycle(factory_id, 1)
    bd = factories["BD"]
    released = (await world.released_assessment(bd))["id"]
    ok(await world.advisor.get(f"/reports/{released}"))  # now on the process's hot path
    draft = (await world.draft(bd, kind="advisory_log"))["id"]
    plan = ok(await world.advisor.get(f"/factories/{bd}/cycles/1/improvement-plan"))
    tpa = {
        country: (await world.request_tpa("participant", "buyer-1", factory_id))["id"]
        for country, factory_id in factories.items()
    }
    return Scene(factories, tpa, released, draft, plan["items"][0]["id"])


# (method, path on the BD factory's data, body, status when the advisor covers BD)
SINGLE: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/access-requests/{tpa}", None, 200),
    ("GET", "/factories/{bd}/cycles/1/reports", None, 200),
    ("GET", "/reports/{released}", None, 200),
    ("GET", "/reports/{draft}", None, 200),
    ("GET", "/factories/{bd}/cycles/1/improvement-plan", None, 200),
    ("POST", "/factories/{bd}/cycles", {"cycle": 2}, 201),
    ("POST", "/factories/{bd}/cycles/1/reports", {"kind": "advisory_log", "title": "Visit"}, 201),
    ("PATCH", "/reports/{draft}", {"title": "Visit notes"}, 200),
    ("POST", "/reports/{draft}/release", None, 200),
    ("POST", "/factories/{bd}/cycles/1/improvement-plan/items", {"title": "Fix exit B"}, 201),
    ("PATCH", "/improvement-plan-items/{item}", {"owner": "HR manager"}, 200),
    ("POST", "/factories/{bd}/zero-tolerance-alerts", {"summary": "Locked exit"}, 201),
]


@pytest.mark.parametrize("claim", list(CLAIMS))
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [pytest.param(*row, id=f"{row[0]} {row[1]}") for row in SINGLE],
)
async def test_single_object_of_a_bd_factory(
    world: World,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: int,
    claim: str,
) -> None:
    the = await scene(world)
    reply = await advisor(world, claim).request(method, the.fill(path), json=body)
    if claim in COVERS["BD"]:
        assert reply.status_code == allowed, reply.text
        return
    assert reply.status_code == 403, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert "BD" in reply.json()["detail"]


def factories_of(page: dict[str, Any]) -> set[str]:
    return {row["factory_id"] for row in page["items"]}


def in_scope(the: Scene, claim: str) -> set[str]:
    return {the.factories[c] for c in ("BD", "KH") if claim in COVERS[c]}


@pytest.mark.parametrize("claim", list(CLAIMS))
class TestListsKeepOnlyRowsInScope:
    async def test_access_requests(self, world: World, claim: str) -> None:
        the = await scene(world)
        client = advisor(world, claim)
        assert factories_of(ok(await client.get("/access-requests"))) == in_scope(the, claim)
        for country, factory_id in the.factories.items():
            for params in (
                {"factory_id": factory_id},
                {"factory_id": factory_id, "status": "pending"},
            ):
                page = ok(await client.get("/access-requests", params=params))
                expected = {factory_id} if claim in COVERS[country] else set()
                assert factories_of(page) == expected, params

    async def test_report_cycles_of_a_factory(self, world: World, claim: str) -> None:
        the = await scene(world)
        client = advisor(world, claim)
        for country, factory_id in the.factories.items():
            page = ok(await client.get(f"/factories/{factory_id}/cycles"))
            expected = [(1, True)] if claim in COVERS[country] else []
            assert [(c["cycle"], c["readable"]) for c in page["items"]] == expected, country


async def test_access_request_pages_are_filtered_before_they_are_cut(world: World) -> None:
    """The scope is part of the query, not a filter on a page already cut: a KH advisor's
    first page holds the KH request even when many BD requests sort before it."""
    bd = await world.factory(country="BD")
    for n in range(4):
        await world.request_tpa("participant", f"buyer-{n}", bd)
    kh = await world.factory(country="KH")
    await world.request_tpa("participant", "buyer-kh", kh)
    page = ok(await advisor(world, "KH").get("/access-requests", params={"limit": 1}))
    assert (factories_of(page), page["next_cursor"]) == ({kh}, None)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = ok(await advisor(world, "BD").get("/access-requests", params=params))
        seen += [row["factory_id"] for row in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [bd] * 4


async def test_other_roles_are_not_limited_by_country(world: World) -> None:
    """The rule limits advisors only: a factory and a buyer still see their own requests
    (their tokens carry no `countries` claim)."""
    the = await scene(world)
    for country, factory_id in the.factories.items():
        page = ok(await world.reports("factory", factory_id).get("/access-requests"))
        assert factories_of(page) == {factory_id}, country
    buyer = ok(await world.reports("participant", "buyer-1").get("/access-requests"))
    assert factories_of(buyer) == set(the.factories.values())


async def test_a_request_from_before_the_country_was_kept(world: World) -> None:
    """A request with no country on record (made before reports kept it, on a factory with
    no report cycle for the migration to take it from) is seen by advisors of every
    programme only, until the buyer asks again and the registry's country is copied."""
    factory_id = await world.factory(country="BD")
    request = await world.request_tpa("partner", "buyer-1", factory_id)
    sessionmaker = world.api.apps["reports"].state.sessionmaker
    async with sessionmaker() as session, session.begin():
        await session.execute(
            sa.text("UPDATE access_request SET country = NULL WHERE id = :id"),
            {"id": request["id"]},
        )
    for claim in CLAIMS:
        client = advisor(world, claim)
        listed = factories_of(ok(await client.get("/access-requests")))
        single = await client.get(f"/access-requests/{request['id']}")
        sees = claim == "*"
        assert (listed, single.status_code) == (({factory_id}, 200) if sees else (set(), 403))
    await world.request_tpa("partner", "buyer-1", factory_id)
    for claim in CLAIMS:
        listed = factories_of(ok(await advisor(world, claim).get("/access-requests")))
        assert listed == ({factory_id} if claim in COVERS["BD"] else set()), claim
