"""The portfolio's filters, paging, CSV and summary (benchmarks and their threshold), and
the bad input they refuse (issue 11)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.portfolio_world import World, portfolio, rows, summary

PARTNER, PARTICIPANT = "brand-1", "buyer-9"
COMPLIANT = [
    {"cluster": "Occupational Safety and Health", "question": "Exits clear?",
     "publicly_reported": True, "compliant": True},
    {"cluster": "Compensation", "question": "Overtime paid?",
     "publicly_reported": False, "compliant": True},
]  # fmt: skip


class Portfolio:
    """PARTNER with an approved TPA to 5 BD factories (all assessed; 2 with a finding in
    each cluster, the partner unlocked one of those and one compliant one), 4 KH factories
    (assessed: KH's benchmark is withheld) and a pending request to one registered (not
    enrolled) VN factory; PARTICIPANT with a pending request to one BD factory."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.ids: dict[str, list[str]] = {"BD": [], "KH": [], "VN": []}

    async def build(self) -> None:
        world = self.world
        await world.become_partner(PARTNER, 10)
        for country, count in (("BD", 5), ("KH", 4)):
            for n in range(count):
                factory_id = await world.factory(country=country, name=f"{country} Mill {n}")
                await world.open_cycle(factory_id)
                findings: dict[str, Any] = {} if n < 2 else {"findings": COMPLIANT}
                await world.released_assessment(factory_id, 1, **findings)
                await world.grant_tpa("partner", PARTNER, factory_id)
                self.ids[country].append(factory_id)
        for factory_id in (self.ids["BD"][0], self.ids["BD"][2]):
            ok(await world.unlock("partner", PARTNER, factory_id), 201)
        vn = await world.factory(country="VN", name="VN Registered", enrolled=False)
        await world.request_tpa("partner", PARTNER, vn)
        self.ids["VN"].append(vn)
        await world.request_tpa("participant", PARTICIPANT, self.ids["BD"][1])


@pytest.fixture
async def book(api: Api) -> Portfolio:
    built = Portfolio(World(api))
    await built.build()
    return built


async def test_filters_sort_and_pages(api: Api, book: Portfolio) -> None:
    every = await rows(api, "partner", PARTNER)
    assert len(every) == 10
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"country": "KH"}, set(book.ids["KH"])),
        ({"country": "kh"}, set(book.ids["KH"])),
        ({"status": "registered"}, set(book.ids["VN"])),
        ({"tpa_state": "pending"}, set(book.ids["VN"])),
        ({"tpa_state": "none"}, set()),
        ({"overdue": "true"}, set()),
        ({"high_performing": "true"}, set()),
        ({"updated_since": "2999-01-01T00:00:00Z"}, set()),
        ({"updated_since": "2000-01-01T00:00:00Z"}, set(every)),
    ]
    for filters, expected in cases:
        assert set(await rows(api, "partner", PARTNER, **filters)) == expected, filters

    client = portfolio(api, "partner", PARTNER)
    names: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3, "sort": "-name"}
        page = ok(
            await client.get(
                "/portfolio/factories", params=params | ({"cursor": cursor} if cursor else {})
            )
        )
        names += [row["name"] for row in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert names == sorted(names, key=str.lower, reverse=True) and len(names) == 10
    by_country = ok(await client.get("/portfolio/factories", params={"sort": "country"}))
    assert [r["country"] for r in by_country["items"]] == ["BD"] * 5 + ["KH"] * 4 + ["VN"]


async def test_csv_is_the_same_rows(api: Api, book: Portfolio) -> None:
    every = await rows(api, "partner", PARTNER)
    client = portfolio(api, "partner", PARTNER)
    export = await client.get("/portfolio/factories/export.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    negotiated = await client.get("/portfolio/factories", headers={"Accept": "text/csv"})
    assert negotiated.status_code == 200 and negotiated.text == export.text
    lines = list(csv.DictReader(io.StringIO(export.text)))
    assert {line["factory_id"] for line in lines} == set(every)
    unlocked = next(line for line in lines if line["factory_id"] == book.ids["BD"][0])
    assert unlocked["findings_basis"] == "report" and unlocked["unlocked_cycles"] == "1"
    assert unlocked["noncompliant_by_cluster"] == (
        '{"Compensation":1,"Occupational Safety and Health":1}'
    )
    kh = await client.get("/portfolio/factories/export.csv", params={"country": "KH", "limit": 2})
    assert len(list(csv.DictReader(io.StringIO(kh.text)))) == 2


async def test_summary_benchmarks_beside_the_country(api: Api, book: Portfolio) -> None:
    body = await summary(api, "partner", PARTNER)
    assert body["factories"] == 10
    assert body["by_status"] == {"enrolled": 9, "registered": 1}
    assert [c["country"] for c in body["by_country"]] == ["BD", "KH", "VN"]
    # No factory list: nothing listed, so no coverage yet (test_portfolio_lists.py).
    assert body["coverage"] == {"factories": 0, "in_better_work": 0, "share": None}
    assert body["as_of"] and set(body["basis"]) >= {"factories", "benchmarks"}
    cells = {(c["country"], c["cluster"]): c for c in body["benchmarks"]}
    # BD: the partner reads 2 reports (one non-compliant); the programme has 5 assessed
    # factories, 2 of them non-compliant in each cluster.
    osh = cells[("BD", "Occupational Safety and Health")]
    assert osh == {
        "country": "BD",
        "cluster": "Occupational Safety and Health",
        "portfolio_factories": 2,
        "portfolio_rate": 0.5,
        "benchmark_factories": 5,
        "benchmark_rate": 0.4,
        "withheld": False,
    }
    # KH has 4 assessed factories: under the threshold, its benchmark is withheld; and
    # the partner reads no KH report, so KH has no cell of its own either.
    assert not any(country == "KH" for country, _ in cells)


async def test_the_benchmark_threshold(api: Api, book: Portfolio) -> None:
    world = book.world
    kh = book.ids["KH"][0]
    ok(await world.unlock("partner", PARTNER, kh), 201)
    cells = {
        c["cluster"]: c
        for c in (await summary(api, "partner", PARTNER))["benchmarks"]
        if c["country"] == "KH"
    }
    assert all(c["withheld"] and c["benchmark_rate"] is None for c in cells.values())
    assert all(c["benchmark_factories"] is None for c in cells.values())
    assert cells["Compensation"]["portfolio_rate"] == 1.0
    # A fifth assessed KH factory (not even in the partner's portfolio) lifts it.
    fifth = await world.factory(country="KH")
    await world.open_cycle(fifth)
    await world.released_assessment(fifth)
    cells = {
        c["cluster"]: c
        for c in (await summary(api, "partner", PARTNER))["benchmarks"]
        if c["country"] == "KH"
    }
    assert cells["Compensation"]["benchmark_factories"] == 5
    assert cells["Compensation"]["benchmark_rate"] == 0.6  # 2 of the first 4, and the fifth


@pytest.mark.parametrize(
    ("role", "org", "params", "status"),
    [
        ("participant", PARTICIPANT, {}, 200),
        ("participant", PARTICIPANT, {"benchmarks": "false"}, 200),
        ("participant", PARTICIPANT, {"benchmarks": "true"}, 403),
        ("partner", PARTNER, {"benchmarks": "false"}, 200),
        ("factory", "fac_x", {}, 403),
    ],
)
async def test_who_gets_benchmarks(
    api: Api, book: Portfolio, role: str, org: str, params: dict[str, str], status: int
) -> None:
    await rows(api, "partner", PARTNER)
    reply = await portfolio(api, role, org).get("/portfolio/summary", params=params)
    assert reply.status_code == status, reply.text
    if status == 403:
        assert reply.headers["content-type"] == "application/problem+json"
        if role == "participant":
            assert "partner benefit" in reply.json()["detail"]
        return
    body = reply.json()
    assert body["benchmarks"] is None
    if role == "participant":
        assert body["factories"] == 1 and body["by_status"] == {"enrolled": 1}


async def test_advisors_summary_per_programme(api: Api, book: Portfolio) -> None:
    await rows(api, "partner", PARTNER)
    client = portfolio(api, "advisor", "bw", countries=["BD"])
    body = ok(await client.get("/portfolio/summary"))
    assert body["factories"] == 5 and [c["country"] for c in body["by_country"]] == ["BD"]
    [osh] = [c for c in body["benchmarks"] if c["cluster"] == "Occupational Safety and Health"]
    assert (osh["portfolio_factories"], osh["benchmark_factories"]) == (5, 5)
    assert (osh["portfolio_rate"], osh["benchmark_rate"]) == (0.4, 0.4)


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/portfolio/factories", {"colour": "red"}, 422),
        ("/portfolio/factories", {"limit": 100000}, 422),
        ("/portfolio/factories", {"limit": 0}, 422),
        ("/portfolio/factories", {"cursor": "bm90LWEtY3Vyc29y"}, 400),
        ("/portfolio/factories", {"country": "Bangladesh"}, 422),
        ("/portfolio/factories", {"tpa_state": "maybe"}, 422),
        ("/portfolio/factories", {"sort": "price"}, 422),
        ("/portfolio/factories", {"updated_since": "yesterday"}, 422),
        ("/portfolio/factories/export.csv", {"limit": 10**9}, 422),
        ("/portfolio/factories/export.csv", {"cursor": "x"}, 422),
        ("/portfolio/summary", {"benchmarks": "perhaps"}, 422),
    ],
)
async def test_bad_input_is_a_clear_problem(
    api: Api, path: str, params: dict[str, Any], status: int
) -> None:
    reply = await portfolio(api, "partner", PARTNER).get(path, params=params)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"


async def test_a_cursor_of_another_list_is_refused(api: Api, book: Portfolio) -> None:
    client = portfolio(api, "partner", PARTNER)
    await rows(api, "partner", PARTNER)
    page = ok(await client.get("/portfolio/factories", params={"limit": 2}))
    tampered = page["next_cursor"][:-2] + ("AA" if not page["next_cursor"].endswith("AA") else "BB")
    reply = await client.get("/portfolio/factories", params={"cursor": tampered})
    assert reply.status_code == 400
    events = await client.get("/events", params={"after": page["next_cursor"]})
    assert events.status_code == 422
