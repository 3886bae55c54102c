"""The advisor country scope in eligibility: an advisor sees and changes the registry
entries of its countries' factories only, and the buyers' factory lists that touch them
(["*"]: every country; no claim, or an empty one: none). A registry entry of another
country is a 404, as if it did not exist (the registry's way); adding one is a 403.

Table-driven: every advisor token below against the registry and factory-list routes."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.eligibility.store.lists import create_list
from shared.auth import mint_token
from tests.eligibility.world import BD_FACTORY, create_factory
from tests.inprocess import Api

CLAIMS: dict[str, list[str] | None] = {
    "KH": ["KH"],
    "BD": ["BD"],
    "*": ["*"],
    "KH+bd": ["KH", "bd"],
    "none": [],
    "no claim": None,
}
COVERS = {"BD": {"BD", "*", "KH+bd"}, "KH": {"KH", "*", "KH+bd"}}


def advisor(api: Api, claim: str) -> httpx.AsyncClient:
    countries = CLAIMS[claim]
    client = api.client("eligibility", role="advisor", org="bw", countries=countries)
    if countries is None:  # the shared helper gives advisors ["*"] unless told otherwise
        token = mint_token(api.settings, sub="advisor-user@bw", org="bw", role="advisor")
        client.headers["Authorization"] = f"Bearer {token}"
    return client


async def registry(api: Api) -> dict[str, str]:
    everywhere = api.client("eligibility", role="advisor", org="bw")
    kh = {"country": "KH", "region": "Phnom Penh", "os_id": None, "name": "Angkor Knits"}
    return {
        "BD": (await create_factory(everywhere))["id"],
        "KH": (await create_factory(everywhere, **kh))["id"],
    }


# (method, path on the BD factory, body, status when the advisor covers BD)
SINGLE: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/factories/{bd}", None, 200),
    ("PATCH", "/factories/{bd}", {"worker_count": 1300}, 200),
    ("POST", "/factories/{bd}/enrolment", {"status": "enrolled"}, 200),
    ("GET", "/factories/{bd}/lookups", None, 200),
]


@pytest.mark.parametrize("claim", list(CLAIMS))
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [pytest.param(*row, id=f"{row[0]} {row[1]}") for row in SINGLE],
)
async def test_a_bd_registry_entry(
    api: Api, method: str, path: str, body: dict[str, Any] | None, allowed: int, claim: str
) -> None:
    factories = await registry(api)
    reply = await advisor(api, claim).request(method, path.format(bd=factories["BD"]), json=body)
    assert reply.status_code == (allowed if claim in COVERS["BD"] else 404), reply.text


@pytest.mark.parametrize("claim", list(CLAIMS))
async def test_adding_a_bd_factory(api: Api, claim: str) -> None:
    reply = await advisor(api, claim).post("/factories", json=BD_FACTORY)
    assert reply.status_code == (201 if claim in COVERS["BD"] else 403), reply.text
    if reply.status_code == 403:
        assert "BD" in reply.json()["detail"]


@pytest.mark.parametrize("claim", list(CLAIMS))
async def test_the_registry_list(api: Api, claim: str) -> None:
    factories = await registry(api)
    page = (await advisor(api, claim).get("/factories")).json()
    expected = {factories[c] for c in ("BD", "KH") if claim in COVERS[c]}
    assert {row["id"] for row in page["items"]} == expected


@pytest.mark.parametrize("claim", list(CLAIMS))
async def test_factory_lists(api: Api, apps: dict[str, FastAPI], claim: str) -> None:
    lists: dict[str, str] = {}
    async with apps["eligibility"].state.sessionmaker() as session:
        for country in ("BD", "KH"):
            created = await create_list(
                session=session,
                owner_org="brand-1",
                created_by="u",
                name=None,
                status="queued",
                source_format="csv",
                row_count=1,
                as_of=date(2025, 1, 1),
                countries=[country],
                warnings=[],
            )
            lists[country] = created.id
        await session.commit()
    client = advisor(api, claim)
    listed = {row["id"] for row in (await client.get("/factory-lists")).json()["items"]}
    assert listed == {lists[c] for c in ("BD", "KH") if claim in COVERS[c]}
    for country, list_id in lists.items():
        reply = await client.get(f"/factory-lists/{list_id}")
        assert reply.status_code == (200 if claim in COVERS[country] else 404), country
