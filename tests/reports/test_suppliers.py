"""Supplier quick-find (issue 12, item 6; the guide's Appendix 2), `GET /v1/reports/suppliers`:
buyers and advisors search the registry by name (fuzzy), OS ID or country and see public
fields only, with their own organisation's TPA state; factories may not; each organisation
has a search budget. Reports asks eligibility's `GET /internal/suppliers` (service tokens
only) for the matching rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.ratelimit import MemoryLimiter
from tests.eligibility.world import create_factory, enrol, problem
from tests.inprocess import Api

PUBLIC_FIELDS = {
    "id",
    "name",
    "country",
    "region",
    "os_id",
    "enrolled",
    "tpa_status",
    "has_tpa",
    "match_score",
}


class Registry:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.advisor = api.client("eligibility", role="advisor", org="bw")
        self.ids: dict[str, str] = {}

    async def add(self, label: str, *, enrolled: bool = True, **facts: Any) -> str:
        created = await create_factory(self.advisor, **facts)
        if enrolled:
            await enrol(self.advisor, created["id"])
        self.ids[label] = created["id"]
        return str(created["id"])

    def search(self, role: str, org: str = "brand-1", **kw: Any) -> httpx.AsyncClient:
        return self.api.client("reports", role=role, org=org, **kw)


@pytest.fixture
async def registry(api: Api) -> Registry:
    registry = Registry(api)
    await registry.add("golden", name="Golden Star Apparels Ltd", os_id="BD2019085ABCDEF")
    await registry.add("sunrise", name="Sunrise Knitwear", os_id="BD2020000SUNRSE", enrolled=False)
    await registry.add(
        "angkor",
        name="Angkor Golden Star Garments",
        country="KH",
        region="Phnom Penh",
        os_id="KH2021000ANGKOR",
        address="Street 598, Phnom Penh",
    )
    return registry


async def _tpa(api: Api, factory_id: str, *, org: str, role: str, approve: bool) -> None:
    reports = api.client("reports", role=role, org=org)
    reply = await reports.post("/access-requests", json={"factory_id": factory_id})
    assert reply.status_code == 201, reply.text
    if approve:
        factory = api.client("reports", role="factory", org=factory_id)
        decided = await factory.post(f"/access-requests/{reply.json()['id']}/approve")
        assert decided.status_code == 200, decided.text


def _names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


# (role, countries) → status of a BD search
ROLES: list[tuple[str, list[str] | None, int]] = [
    ("partner", None, 200),
    ("participant", None, 200),
    ("advisor", ["BD"], 200),
    ("advisor", ["*"], 200),
    ("advisor", ["KH"], 403),
    ("factory", None, 403),
]


@pytest.mark.parametrize(("role", "countries", "status"), ROLES)
async def test_who_may_search(
    registry: Registry, role: str, countries: list[str] | None, status: int
) -> None:
    org = registry.ids["golden"] if role == "factory" else "brand-1"
    client = registry.search(role, org, countries=countries)
    reply = await client.get("/suppliers", params={"q": "Golden Star", "country": "BD"})
    if status != 200:
        problem(reply, status)
        return
    assert _names(reply.json()) == ["Golden Star Apparels Ltd"]


async def test_public_fields_only_with_the_callers_own_tpa(registry: Registry, api: Api) -> None:
    golden, sunrise = registry.ids["golden"], registry.ids["sunrise"]
    await _tpa(api, golden, org="brand-1", role="partner", approve=True)
    await _tpa(api, sunrise, org="brand-1", role="partner", approve=False)
    await _tpa(api, golden, org="buyer-2", role="participant", approve=False)
    reply = await registry.search("partner").get("/suppliers", params={"country": "BD"})
    assert reply.status_code == 200, reply.text
    items = {item["id"]: item for item in reply.json()["items"]}
    assert all(set(item) == PUBLIC_FIELDS for item in items.values())
    assert items[golden] == {
        "id": golden,
        "name": "Golden Star Apparels Ltd",
        "country": "BD",
        "region": "Gazipur",
        "os_id": "BD2019085ABCDEF",
        "enrolled": True,
        "tpa_status": "approved",
        "has_tpa": True,
        "match_score": None,
    }
    assert (items[sunrise]["enrolled"], items[sunrise]["tpa_status"]) == (False, "pending")
    assert items[sunrise]["has_tpa"] is False
    # buyer-2 sees its own pending request, never brand-1's approval.
    other = (
        await registry.search("participant", "buyer-2").get("/suppliers", params={"country": "BD"})
    ).json()
    states = {item["id"]: (item["tpa_status"], item["has_tpa"]) for item in other["items"]}
    assert states == {golden: ("pending", False), sunrise: (None, False)}
    # Advisors hold no TPA: null for them.
    advisor = (
        await registry.search("advisor", "bw").get("/suppliers", params={"country": "BD"})
    ).json()
    assert {item["tpa_status"] for item in advisor["items"]} == {None}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "golden star apparels"}, ["Golden Star Apparels Ltd"]),  # legal form ignored
        ({"q": "Goldan Star Apparels"}, ["Golden Star Apparels Ltd"]),  # one typo
        ({"q": "Golden Star"}, ["Golden Star Apparels Ltd", "Angkor Golden Star Garments"]),
        ({"q": "golden star", "country": "KH"}, ["Angkor Golden Star Garments"]),
        ({"q": "Nowhere Textiles"}, []),
        ({"os_id": "bd2020000sunrse"}, ["Sunrise Knitwear"]),  # OS ID, any case
        ({"os_id": "BD2020000SUNRSE", "country": "KH"}, []),
        ({"country": "KH"}, ["Angkor Golden Star Garments"]),
    ],
)
async def test_search_by_name_os_id_or_country(
    registry: Registry, params: dict[str, str], expected: list[str]
) -> None:
    reply = await registry.search("participant").get("/suppliers", params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert _names(body) == expected
    scores = [item["match_score"] for item in body["items"]]
    if "q" in params:
        assert all(0 < score <= 100 for score in scores) and scores == sorted(scores, reverse=True)
    else:
        assert scores == [None] * len(scores)


async def test_advisors_search_their_programmes_only(registry: Registry) -> None:
    kh = registry.search("advisor", "bw", countries=["KH"])
    reply = await kh.get("/suppliers", params={"q": "Golden Star"})
    assert _names(reply.json()) == ["Angkor Golden Star Garments"]
    problem(await kh.get("/suppliers", params={"country": "BD"}), 403)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "Golden", "os_id": "BD2019085ABCDEF"},
        {"q": "x"},
        {"q": "bad\x00name"},
        {"country": "Bangladesh"},
        {"os_id": "X" * 65},
        {"q": "Golden", "address": "Plot 12"},
    ],
)
async def test_bad_searches_are_422(registry: Registry, params: dict[str, str]) -> None:
    problem(await registry.search("partner").get("/suppliers", params=params), 422)


async def test_name_hits_and_country_pages_use_signed_cursors(api: Api) -> None:
    registry = Registry(api)
    for n in range(5):
        await registry.add(f"f{n}", name=f"Meridian Apparel {n} Ltd", os_id=f"BD00MERIDIAN{n}")
    client = registry.search("partner")
    for params in ({"q": "Meridian Apparel", "limit": "2"}, {"country": "BD", "limit": "2"}):
        seen: list[str] = []
        cursor = None
        while True:
            reply = await client.get(
                "/suppliers", params={**params, **({"cursor": cursor} if cursor else {})}
            )
            assert reply.status_code == 200, reply.text
            page = reply.json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(registry.ids.values()), params
        assert len(seen) == len(set(seen))
    first = (await client.get("/suppliers", params={"country": "BD", "limit": "2"})).json()
    wrong = await client.get("/suppliers", params={"q": "Meridian", "cursor": first["next_cursor"]})
    assert problem(wrong, 400)["errors"][0]["field"] == "cursor"
    problem(await client.get("/suppliers", params={"country": "BD", "cursor": "forged"}), 400)


async def _budget(apps: dict[str, FastAPI], *, per_minute: int, burst: int) -> AsyncIterator[None]:
    state = apps["reports"].state
    kept = state.supplier_search_limiter
    state.supplier_search_limiter = MemoryLimiter(per_minute=per_minute, burst=burst)
    yield
    state.supplier_search_limiter = kept


@pytest.fixture(autouse=True)
async def fresh_budget(apps: dict[str, FastAPI]) -> AsyncIterator[None]:
    """Each test starts with a full budget (the apps, and so their buckets, live for the
    whole session): a test's searches never depend on how fast the earlier ones ran."""
    async for _ in _budget(apps, per_minute=600, burst=100):
        yield


@pytest.fixture
async def tight_budget(apps: dict[str, FastAPI], fresh_budget: None) -> AsyncIterator[None]:
    """The search budget as a deployment might set it, 3 at once (and 1 a minute)."""
    async for _ in _budget(apps, per_minute=1, burst=3):
        yield


async def test_searches_are_rate_limited_per_organisation(
    registry: Registry, tight_budget: None
) -> None:
    brand = registry.search("partner", "brand-1")
    for _ in range(3):
        assert (await brand.get("/suppliers", params={"country": "BD"})).status_code == 200
    refused = await brand.get("/suppliers", params={"country": "BD"})
    assert "supplier searches" in problem(refused, 429)["detail"]
    assert int(refused.headers["retry-after"]) >= 1
    # Another organisation has its own budget.
    other = registry.search("participant", "buyer-2")
    assert (await other.get("/suppliers", params={"country": "BD"})).status_code == 200


async def test_the_registry_search_is_for_services_only(registry: Registry, api: Api) -> None:
    params = {"q": "Golden Star", "countries": ["BD", "KH"]}
    for role in ("advisor", "partner", "participant", "factory"):
        client = api.client("eligibility", role=role, org="brand-1")
        assert (await client.get("/internal/suppliers", params=params)).status_code in (401, 403)
        # The public route is gone from eligibility: the quick-find lives in reports.
        gone = await client.get("/suppliers", params={"country": "BD"})
        assert gone.status_code in (404, 405)
    service = api.client("eligibility", role="service")
    reply = await service.get("/internal/suppliers", params=params)
    assert reply.status_code == 200, reply.text
    items = reply.json()["items"]
    assert [item["name"] for item in items] == [
        "Golden Star Apparels Ltd",
        "Angkor Golden Star Garments",
    ]
    assert set(items[0]) == PUBLIC_FIELDS - {"tpa_status", "has_tpa"}
    problem(await service.get("/internal/suppliers", params={"limit": "5"}), 422)
    problem(await service.get("/internal/suppliers", params={"countries": ["ZZ"]}), 422)
