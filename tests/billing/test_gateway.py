"""Billing through the gateway at /v1/billing, with the roles of API.md."""

from __future__ import annotations

import pytest

from tests.helpers import key
from tests.inprocess import Api

BASE = "/v1/billing"


async def test_partner_quote_through_the_gateway(gateway_api: Api) -> None:
    client = gateway_api.client("gateway", role="partner", org="brand-1")
    reply = await client.post(
        f"{BASE}/quotes/partner",
        json={"year": 2025, "apparel_revenue_usd": "3999999999.99", "factory_count": 50},
    )
    assert reply.status_code == 200, reply.text
    assert (reply.json()["revenue_tier"], reply.json()["footprint_tier"]) == ("B", 2)
    assert reply.json()["total"] == "36960.00"
    assert "X-Request-ID" in reply.headers


async def test_credits_purchase_through_the_gateway(gateway_api: Api) -> None:
    participant = gateway_api.client("gateway", role="participant", org="buyer-1")
    advisor = gateway_api.client("gateway", role="advisor", org="bw")
    created = await participant.post(
        f"{BASE}/invoices",
        json={"kind": "credits", "year": 2025, "report_cycles": 21},
        headers=key(),
    )
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert (invoice["total"], invoice["currency"]) == ("30030.00", "USD")
    paid = await advisor.post(
        f"{BASE}/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"]},
        headers=key(),
    )
    assert paid.status_code == 201, paid.text
    credits = await participant.get(f"{BASE}/credits")
    assert credits.status_code == 200
    assert credits.json()["balance"] == 21


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("factory", "POST", "/quotes/partner"),
        ("factory", "GET", "/invoices"),
        ("participant", "POST", "/quotes/partner"),
        ("partner", "GET", "/credits"),
        ("participant", "GET", "/footprint"),
        ("partner", "POST", "/invoices/inv_x/payments"),
    ],
)
async def test_the_gateway_enforces_the_roles(
    gateway_api: Api, role: str, method: str, path: str
) -> None:
    client = gateway_api.client("gateway", role=role, org="org-1")
    reply = await client.request(method, BASE + path, json={})
    assert reply.status_code == 403
    assert reply.headers["content-type"] == "application/problem+json"


async def test_internal_paths_are_not_routed(gateway_api: Api) -> None:
    client = gateway_api.client("gateway", role="advisor", org="bw")
    reply = await client.post(
        f"{BASE}/internal/charges",
        json={"org": "buyer-1", "reference": "x", "kind": "credit", "factory_id": "f"},
    )
    assert reply.status_code == 404
