"""A credit is never spent twice and a footprint never exceeded, however many requests
arrive at once (PostgreSQL: real row locks, real concurrent transactions)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.billing.conftest import become_partner, buy_credits, create_invoice, key
from tests.conftest import Api

pytestmark = pytest.mark.postgres

SPENDS = 60
REPEATS = 5


@pytest.mark.parametrize("attempt", range(REPEATS))
async def test_concurrent_spends_at_a_balance_of_one(
    api: Api, service: httpx.AsyncClient, attempt: int
) -> None:
    org = f"buyer-{attempt}"
    await buy_credits(api, org, 1)

    async def spend() -> httpx.Response:
        reference = f"unl_{uuid.uuid4().hex}"
        return await service.post(
            "/internal/credits/spend",
            json={"org": org, "reference": reference},
            headers={"Idempotency-Key": reference},
        )

    replies = await asyncio.gather(*(spend() for _ in range(SPENDS)))
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] + [402] * (SPENDS - 1)
    credits = (await api.client("billing", role="advisor").get(f"/credits?org={org}")).json()
    assert credits["balance"] == 0
    assert [e["kind"] for e in credits["entries"]] == ["spend", "purchase"]


async def test_concurrent_retries_of_one_unlock_spend_once(
    api: Api, service: httpx.AsyncClient
) -> None:
    await buy_credits(api, "buyer-1", 5)
    body, headers = {"org": "buyer-1", "reference": "unl_1"}, {"Idempotency-Key": "unl_1"}
    replies = await asyncio.gather(
        *(service.post("/internal/credits/spend", json=body, headers=headers) for _ in range(20))
    )
    assert {reply.status_code for reply in replies} <= {201, 409}  # 409: first still running
    assert {r.json()["entry_id"] for r in replies if r.status_code == 201} != set()
    credits = (await api.client("billing", role="advisor").get("/credits?org=buyer-1")).json()
    assert credits["balance"] == 4


@pytest.mark.parametrize("footprint", [1, 5, 20])
async def test_concurrent_claims_fill_the_footprint_exactly(
    api: Api, service: httpx.AsyncClient, footprint: int
) -> None:
    await become_partner(api, "brand-1", year=2025, footprint=footprint)

    async def claim(n: int) -> httpx.Response:
        return await service.post(
            "/internal/footprint/claims",
            json={"org": "brand-1", "year": 2025, "factory_id": f"fac-{n}", "reference": f"u{n}"},
        )

    replies = await asyncio.gather(*(claim(n) for n in range(2 * footprint)))
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [200] * footprint + [403] * footprint
    partner = api.client("billing", role="partner", org="brand-1")
    state = (await partner.get("/footprint?year=2025")).json()
    assert (state["footprint"], state["used"]) == (footprint, footprint)


async def test_concurrent_claims_of_one_factory_count_it_once(
    api: Api, service: httpx.AsyncClient
) -> None:
    await become_partner(api, "brand-1", year=2025, footprint=3)
    replies = await asyncio.gather(
        *(
            service.post(
                "/internal/footprint/claims",
                json={"org": "brand-1", "year": 2025, "factory_id": "fac-1", "reference": f"u{n}"},
            )
            for n in range(20)
        )
    )
    assert {reply.status_code for reply in replies} == {200}
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
