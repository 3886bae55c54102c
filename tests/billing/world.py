"""Helpers for the billing API tests: plain async functions that make the data a test needs
through the API itself (invoice, payment, credits, partnership; the charges and
cancellations the unlock saga sends), so every test starts from the public contract."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import ADVISOR_ORG, key
from tests.inprocess import Api


async def create_invoice(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    reply = await client.post("/invoices", json=body, headers=key())
    assert reply.status_code == 201, reply.text
    invoice: dict[str, Any] = reply.json()
    return invoice


async def pay(api: Api, invoice: dict[str, Any]) -> dict[str, Any]:
    advisor = api.client("billing", role="advisor", org=ADVISOR_ORG)
    reply = await advisor.post(
        f"/invoices/{invoice['id']}/payments", json={"amount": invoice["total"]}, headers=key()
    )
    assert reply.status_code == 201, reply.text
    paid: dict[str, Any] = reply.json()
    return paid


async def buy_credits(api: Api, org: str, report_cycles: int, *, year: int = 2025) -> None:
    """A paid credits invoice: `report_cycles` credits on `org`'s balance."""
    participant = api.client("billing", role="participant", org=org)
    invoice = await create_invoice(
        participant, {"kind": "credits", "year": year, "report_cycles": report_cycles}
    )
    await pay(api, invoice)


async def become_partner(api: Api, org: str, *, year: int, footprint: int) -> dict[str, Any]:
    """A paid partnership invoice: `org` has `footprint` for `year`."""
    partner = api.client("billing", role="partner", org=org)
    invoice = await create_invoice(
        partner,
        {
            "kind": "partnership",
            "year": year,
            "apparel_revenue_usd": "2500000000",
            "factory_count": footprint,
        },
    )
    return await pay(api, invoice)


async def charge(
    service: httpx.AsyncClient,
    org: str,
    reference: str,
    *,
    kind: str = "credit",
    factory_id: str = "fac-1",
    year: int | None = None,
    reason: str | None = None,
) -> httpx.Response:
    """What the unlock saga sends: pay with `reference` (a credit, or a footprint slot)."""
    body: dict[str, Any] = {"org": org, "reference": reference, "kind": kind}
    body |= {"factory_id": factory_id, "year": year, "reason": reason}
    return await service.post("/internal/charges", json=body)


async def cancel(
    service: httpx.AsyncClient,
    org: str,
    *references: str,
    kind: str = "credit",
    factory_id: str = "fac-1",
) -> httpx.Response:
    """What the unlock saga sends to give payment attempts up."""
    body = {"org": org, "kind": kind, "factory_id": factory_id, "references": list(references)}
    return await service.post("/internal/charges/cancel", json=body)
