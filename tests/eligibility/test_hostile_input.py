"""Input no client should send still gets a clear problem, never a 500."""

from __future__ import annotations

import pytest

from tests.hostile import FORGED_CURSORS, assert_cursor_refused, b64url, problem
from tests.inprocess import Api


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/factory-lists/a%00b"),
        ("GET", "/factory-lists/a%00b/results.csv"),
        ("GET", "/factories/a%00b"),
        ("GET", "/factories/a%00b/lookups"),
        ("POST", "/factories/a%00b/enrolment"),
        ("GET", "/partnership-applications/x%00"),
        ("POST", "/partnership-applications/x%00/agreement"),
        ("POST", "/partnership-applications/x%00/due-diligence"),
        ("GET", "/factories/" + "f" * 129),
        ("GET", "/factories/a%1Fb"),
    ],
)
async def test_control_characters_in_ids_are_422(api: Api, method: str, path: str) -> None:
    client = api.client("eligibility", role="advisor", org="bw")
    reply = await client.request(method, path, json={"status": "enrolled"})
    problem(reply, 422)


async def test_control_characters_in_rows_are_reported_on_the_row(api: Api) -> None:
    client = api.client("eligibility", role="partner", org="brand-1")
    body = {"factories": [{"country": "B\u0000D", "client_ref": "r\u00001", "f\u0000": 1}]}
    reply = await client.post("/factory-lists", json=body)
    assert reply.status_code == 201, reply.text
    row = reply.json()["results"][0]
    assert row["status"] == "invalid"
    assert row["client_ref"] == "r1"
    csv_reply = await client.get(f"/factory-lists/{reply.json()['id']}/results.csv")
    assert csv_reply.status_code == 200


LISTS = [
    "/factories",
    "/factory-lists",
    "/factory-lists/fls-1",
    "/factories/fac-1/lookups",
    "/partnership-applications",
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
@pytest.mark.parametrize("path", LISTS)
async def test_forged_cursors_are_400(api: Api, path: str, cursor: str) -> None:
    client = api.client("eligibility", role="advisor", org="bw")
    assert_cursor_refused(await client.get(path, params={"cursor": cursor}))


async def test_a_factory_lists_rows_take_only_the_offsets_they_issued(api: Api) -> None:
    client = api.client("eligibility", role="partner", org="brand-1")
    csv = "client_ref,name,country\n" + "".join(f"r{i},Mill {i},BD\n" for i in range(5))
    reply = await client.post("/factory-lists", content=csv, headers={"content-type": "text/csv"})
    assert reply.status_code == 201, reply.text
    path = f"/factory-lists/{reply.json()['id']}"
    first = (await client.get(path, params={"limit": 2})).json()
    assert [r["row"] for r in first["results"]] == [1, 2]
    rest = (await client.get(path, params={"cursor": first["next_cursor"]})).json()
    assert [r["row"] for r in rest["results"]] == [3, 4, 5]
    # An offset past any integer column (10**25 once overflowed asyncpg: a 500), and one
    # that would skip rows: neither was issued, so neither is taken.
    for forged in (b64url(f"[{10**25}]"), b64url("[4]")):
        assert_cursor_refused(await client.get(path, params={"cursor": forged}))
    # A cursor of the list of lists is not a row offset.
    await client.post("/factory-lists", content=csv, headers={"content-type": "text/csv"})
    lists = (await client.get("/factory-lists", params={"limit": 1})).json()
    assert_cursor_refused(await client.get(path, params={"cursor": lists["next_cursor"]}))


async def test_nul_in_a_registry_entry_is_422(api: Api) -> None:
    client = api.client("eligibility", role="advisor", org="bw")
    body = {"name": "Mill\u0000", "address": "1 Road", "country": "BD", "worker_count": 500}
    found = problem(await client.post("/factories", json=body), 422)
    assert "control character" in found["detail"]
