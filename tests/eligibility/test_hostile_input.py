"""Input no client should send still gets a clear problem, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.eligibility.conftest import problem


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
