"""The guide's buyer workflows (issue 12: supplier quick-find, bulk access requests, the
high-performing status) through the gateway, for every role: the gateway's role gate and
the service's own checks give one answer, and the bodies are the services'."""

from __future__ import annotations

import uuid

import pytest

from tests.inprocess import Api
from tests.reports.world import World

# role → (quick-find, bulk request, high-performing status of a factory the buyer has no
# TPA for); the factory reads its own status, advisors every factory's.
EXPECTED = {
    "partner": (200, 200, 403),
    "participant": (200, 200, 403),
    "factory": (403, 403, 200),
    "advisor": (200, 403, 200),
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_each_role_gets_the_services_answer(gateway_api: Api, role: str) -> None:
    world = World(gateway_api)
    factory_id = await world.factory()
    org = {"factory": factory_id, "advisor": "bw"}.get(role, "buyer-1")
    client = gateway_api.client("gateway", role=role, org=org)
    search, bulk, status = EXPECTED[role]

    found = await client.get("/v1/reports/suppliers", params={"country": "BD"})
    assert found.status_code == search, found.text
    if search == 200:
        assert factory_id in [row["id"] for row in found.json()["items"]]

    asked = await client.post(
        "/v1/reports/access-requests/bulk",
        json={"factory_ids": [factory_id]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert asked.status_code == bulk, asked.text
    if bulk == 200:
        assert [row["outcome"] for row in asked.json()["items"]] == ["requested"]

    read = await client.get(f"/v1/cycles/factories/{factory_id}/high-performing")
    assert read.status_code == status, read.text
    if status == 200:
        assert read.json()["classified"] is False
    for reply in (found, asked, read):
        if reply.status_code == 403:
            assert reply.headers["content-type"] == "application/problem+json"
