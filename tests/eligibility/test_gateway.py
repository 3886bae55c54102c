"""The eligibility API through the gateway (`/v1/eligibility/...`) with the roles shown."""

from __future__ import annotations

from tests.eligibility.world import BD_FACTORY
from tests.inprocess import Api


async def test_check_and_csv_upload_through_the_gateway(gateway_api: Api) -> None:
    advisor = gateway_api.client("gateway", role="advisor", org="bw")
    created = await advisor.post("/v1/eligibility/factories", json=BD_FACTORY)
    assert created.status_code == 201, created.text
    enrolled = await advisor.post(
        f"/v1/eligibility/factories/{created.json()['id']}/enrolment", json={"status": "enrolled"}
    )
    assert enrolled.status_code == 200

    partner = gateway_api.client("gateway", role="partner", org="brand-1")
    check = await partner.post(
        "/v1/eligibility/checks",
        json={"country": "BD", "worker_count": 251, "products": ["garments"], "region": "Savar"},
    )
    assert check.status_code == 200, check.text
    assert check.json()["status"] == "insufficient_data"
    assert "x-request-id" in check.headers

    upload = await partner.post(
        "/v1/eligibility/factory-lists",
        content=b"client_ref,name,country\nA1,Golden Star Apparels,BD\n",
        headers={"content-type": "text/csv"},
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["results"][0]["status"] == "enrolled"
    csv_reply = await partner.get(
        f"/v1/eligibility/factory-lists/{upload.json()['id']}/results.csv"
    )
    assert csv_reply.status_code == 200
    assert "A1" in csv_reply.text


async def test_the_gateway_enforces_the_roles(gateway_api: Api) -> None:
    factory = gateway_api.client("gateway", role="factory", org="fac_1")
    reply = await factory.post(
        "/v1/eligibility/checks/bulk", json={"factories": [{"country": "BD"}]}
    )
    assert reply.status_code == 403
    assert reply.headers["content-type"].startswith("application/problem+json")
    buyer = gateway_api.client("gateway", role="participant", org="b")
    assert (await buyer.post("/v1/eligibility/factories", json=BD_FACTORY)).status_code == 403
    assert (await buyer.get("/v1/eligibility/programmes/KH")).status_code == 200
    internal = await buyer.get("/v1/eligibility/internal/factories/x")
    assert internal.status_code == 404
