"""A credit is never spent twice and a footprint never exceeded, however many requests
arrive at once (PostgreSQL: real row locks, real concurrent transactions)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.billing.world import become_partner, buy_credits, cancel, charge, create_invoice
from tests.helpers import key
from tests.inprocess import Api

pytestmark = pytest.mark.postgres

SPENDS = 60
REPEATS = 5


@pytest.mark.parametrize("attempt", range(REPEATS))
async def test_concurrent_spends_at_a_balance_of_one(
    api: Api, service: httpx.AsyncClient, attempt: int
) -> None:
    org = f"buyer-{attempt}"
    await buy_credits(api, org, 1)

    replies = await asyncio.gather(
        *(charge(service, org, f"unl_{uuid.uuid4().hex}") for _ in range(SPENDS))
    )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] + [402] * (SPENDS - 1)
    credits = (await api.client("billing", role="advisor").get(f"/credits?org={org}")).json()
    assert credits["balance"] == 0
    assert [e["kind"] for e in credits["entries"]] == ["spend", "purchase"]


async def test_concurrent_retries_of_one_unlock_spend_once(
    api: Api, service: httpx.AsyncClient
) -> None:
    await buy_credits(api, "buyer-1", 5)
    replies = await asyncio.gather(*(charge(service, "buyer-1", "unl_1.1") for _ in range(20)))
    assert {reply.status_code for reply in replies} == {201}  # the repeats replay the first
    credits = (await api.client("billing", role="advisor").get("/credits?org=buyer-1")).json()
    assert credits["balance"] == 4


async def test_a_cancel_racing_its_charge_leaves_no_credit_held(
    api: Api, service: httpx.AsyncClient
) -> None:
    """Whichever commits first, a cancelled reference holds nothing: either the charge ran
    first and the cancel gave it back, or the cancel ran first and the charge was refused."""
    await buy_credits(api, "buyer-1", 30)
    references = [f"unl_{n}.1" for n in range(30)]
    await asyncio.gather(
        *(charge(service, "buyer-1", r) for r in references),
        *(cancel(service, "buyer-1", r) for r in references),
    )
    credits = (await api.client("billing", role="advisor").get("/credits?org=buyer-1")).json()
    assert credits["balance"] == 30
    held = (await service.get("/internal/charges?state=held")).json()["items"]
    assert held == []
    assert (await service.get("/internal/ledger/check")).json()["discrepancies"] == []


@pytest.mark.parametrize("footprint", [1, 5, 20])
async def test_concurrent_claims_fill_the_footprint_exactly(
    api: Api, service: httpx.AsyncClient, footprint: int
) -> None:
    await become_partner(api, "brand-1", year=2025, footprint=footprint)

    replies = await asyncio.gather(
        *(
            charge(service, "brand-1", f"u{n}", kind="footprint", factory_id=f"fac-{n}", year=2025)
            for n in range(2 * footprint)
        )
    )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] * footprint + [403] * footprint
    partner = api.client("billing", role="partner", org="brand-1")
    state = (await partner.get("/footprint?year=2025")).json()
    assert (state["footprint"], state["used"]) == (footprint, footprint)


async def test_concurrent_claims_of_one_factory_count_it_once(
    api: Api, service: httpx.AsyncClient
) -> None:
    await become_partner(api, "brand-1", year=2025, footprint=3)
    replies = await asyncio.gather(
        *(charge(service, "brand-1", f"u{n}", kind="footprint", year=2025) for n in range(20))
    )
    assert {reply.status_code for reply in replies} == {201}
    assert sum(reply.json()["new_claim"] for reply in replies) == 1
    state = (
        await api.client("billing", role="partner", org="brand-1").get("/footprint?year=2025")
    ).json()
    assert state["used"] == 1


async def test_concurrent_partnership_invoices_issue_one(api: Api) -> None:
    partner = api.client("billing", role="partner", org="brand-1")
    body = {"kind": "partnership", "year": 2025, "apparel_revenue_usd": "1", "factory_count": 3}
    replies = await asyncio.gather(
        *(partner.post("/invoices", json=body, headers=key()) for _ in range(10))
    )
    assert sorted(reply.status_code for reply in replies) == [201] + [409] * 9
    await create_invoice(partner, {**body, "year": 2026})
