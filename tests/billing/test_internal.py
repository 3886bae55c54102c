"""The internal contract served to the reports service (services/INTERNAL_API.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.billing.conftest import become_partner, buy_credits
from tests.conftest import Api

SPEND = "/internal/credits/spend"
REFUND = "/internal/credits/refund"
CLAIM = "/internal/footprint/claims"
RELEASE = "/internal/footprint/claims/release"


async def ledger(api: Api, org: str) -> dict[str, Any]:
    reply = await api.client("billing", role="advisor").get(f"/credits?org={org}")
    body: dict[str, Any] = reply.json()
    return body


class TestSpendCredit:
    async def test_spends_one_credit(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 2)
        reply = await service.post(
            SPEND,
            json={"org": "buyer-1", "reference": "unl_1", "reason": "unlock fac-1 cycle 1"},
            headers={"Idempotency-Key": "unl_1"},
        )
        assert reply.status_code == 201, reply.text
        body = reply.json()
        assert body["entry_id"].startswith("txn_")
        assert {k: body[k] for k in ("org", "balance", "reference")} == {
            "org": "buyer-1",
            "balance": 1,
            "reference": "unl_1",
        }
        entries = (await ledger(api, "buyer-1"))["entries"]
        assert (entries[0]["kind"], entries[0]["reason"]) == ("spend", "unlock fac-1 cycle 1")

    async def test_a_retried_unlock_never_spends_twice(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 2)
        body, headers = {"org": "buyer-1", "reference": "unl_1"}, {"Idempotency-Key": "unl_1"}
        first = await service.post(SPEND, json=body, headers=headers)
        again = await service.post(SPEND, json=body, headers=headers)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        # Even under another key, a spent reference is not spent again.
        other_key = await service.post(SPEND, json=body, headers={"Idempotency-Key": "other"})
        assert other_key.json()["entry_id"] == first.json()["entry_id"]
        assert (await ledger(api, "buyer-1"))["balance"] == 1

    async def test_zero_balance_is_402_and_changes_nothing(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 1)
        ok = await service.post(
            SPEND, json={"org": "buyer-1", "reference": "unl_1"}, headers={"Idempotency-Key": "a"}
        )
        assert ok.status_code == 201
        before = await ledger(api, "buyer-1")
        reply = await service.post(
            SPEND, json={"org": "buyer-1", "reference": "unl_2"}, headers={"Idempotency-Key": "b"}
        )
        assert reply.status_code == 402
        assert reply.headers["content-type"] == "application/problem+json"
        assert "balance of buyer-1 is 0" in reply.json()["detail"]
        assert await ledger(api, "buyer-1") == before
        # Refused requests store nothing: the same key runs again once credits arrive.
        await buy_credits(api, "buyer-1", 1)
        retry = await service.post(
            SPEND, json={"org": "buyer-1", "reference": "unl_2"}, headers={"Idempotency-Key": "b"}
        )
        assert retry.status_code == 201

    async def test_an_unknown_buyer_has_no_credits(self, service: httpx.AsyncClient) -> None:
        reply = await service.post(
            SPEND, json={"org": "nobody", "reference": "unl_1"}, headers={"Idempotency-Key": "a"}
        )
        assert reply.status_code == 402

    async def test_same_key_other_body_is_422(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 2)
        headers = {"Idempotency-Key": "unl_1"}
        await service.post(SPEND, json={"org": "buyer-1", "reference": "unl_1"}, headers=headers)
        reply = await service.post(
            SPEND, json={"org": "buyer-1", "reference": "unl_9"}, headers=headers
        )
        assert reply.status_code == 422

    async def test_needs_an_idempotency_key(self, service: httpx.AsyncClient) -> None:
        reply = await service.post(SPEND, json={"org": "buyer-1", "reference": "unl_1"})
        assert reply.status_code == 400

    @pytest.mark.parametrize("role", ["participant", "partner", "advisor", "factory"])
    async def test_user_tokens_are_refused(self, api: Api, role: str) -> None:
        reply = await api.client("billing", role=role, org="buyer-1").post(
            SPEND, json={"org": "buyer-1", "reference": "unl_1"}, headers={"Idempotency-Key": "k"}
        )
        assert reply.status_code == 401

    @pytest.mark.postgres
    async def test_a_retry_while_the_first_is_running_is_409(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 1)
        body, headers = {"org": "buyer-1", "reference": "unl_1"}, {"Idempotency-Key": "unl_1"}
        engine = api.apps["billing"].state.engine
        async with engine.connect() as blocker:
            await blocker.execute(
                text("SELECT org FROM credit_account WHERE org = 'buyer-1' FOR UPDATE")
            )
            first = asyncio.create_task(service.post(SPEND, json=body, headers=headers))
            for _ in range(200):
                state = await blocker.scalar(
                    text("SELECT state FROM idempotency_record WHERE key = 'unl_1'")
                )
                if state == "in_flight":
                    break
                await asyncio.sleep(0.01)
            retry = await service.post(SPEND, json=body, headers=headers)
            assert retry.status_code == 409
            await blocker.rollback()
        assert (await first).status_code == 201
        assert (await ledger(api, "buyer-1"))["balance"] == 0


class TestRefundCredit:
    async def test_gives_the_credit_back_once(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 1)
        await service.post(
            SPEND, json={"org": "buyer-1", "reference": "unl_1"}, headers={"Idempotency-Key": "x"}
        )
        body = {"org": "buyer-1", "reference": "unl_1"}
        first = await service.post(REFUND, json=body, headers={"Idempotency-Key": "refund-unl_1"})
        assert first.status_code == 201
        assert (first.json()["balance"], first.json()["reference"]) == (1, "unl_1")
        again = await service.post(REFUND, json=body, headers={"Idempotency-Key": "refund-unl_1"})
        assert again.json() == first.json()
        other_key = await service.post(REFUND, json=body, headers={"Idempotency-Key": "another"})
        assert other_key.json()["entry_id"] == first.json()["entry_id"]
        credits = await ledger(api, "buyer-1")
        assert credits["balance"] == 1
        assert [e["kind"] for e in credits["entries"]] == ["refund", "spend", "purchase"]

    async def test_nothing_spent_is_404(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 1)
        reply = await service.post(
            REFUND,
            json={"org": "buyer-1", "reference": "unl_never"},
            headers={"Idempotency-Key": "refund-unl_never"},
        )
        assert reply.status_code == 404
        assert (await ledger(api, "buyer-1"))["balance"] == 1


class TestClaimFootprint:
    async def test_claims_up_to_the_footprint(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=2)

        async def claim(factory: str, reference: str) -> httpx.Response:
            body = {"org": "brand-1", "year": 2025, "factory_id": factory, "reference": reference}
            return await service.post(CLAIM, json=body)

        first = await claim("fac-1", "unl_1")
        assert first.status_code == 200
        assert first.json() == {
            "org": "brand-1",
            "year": 2025,
            "footprint": 2,
            "used": 1,
            "factory_id": "fac-1",
            "new_claim": True,
        }
        again = await claim("fac-1", "unl_2")  # another cycle of the same factory: free
        assert (again.json()["used"], again.json()["new_claim"]) == (1, False)
        assert (await claim("fac-2", "unl_3")).json()["used"] == 2
        full = await claim("fac-3", "unl_4")
        assert full.status_code == 403
        assert "2 of 2 factories" in full.json()["detail"]
        assert (full.json()["footprint"], full.json()["used"]) == (2, 2)
        assert (await claim("fac-1", "unl_5")).json()["new_claim"] is False  # still free

    async def test_footprints_are_per_year(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        body = {"org": "brand-1", "year": 2026, "factory_id": "fac-1", "reference": "unl_1"}
        reply = await service.post(CLAIM, json=body)
        assert reply.status_code == 403
        assert "no paid partnership invoice" in reply.json()["detail"]
        assert (reply.json()["footprint"], reply.json()["used"]) == (0, 0)

    async def test_an_unpaid_invoice_gives_no_footprint(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        partner = api.client("billing", role="partner", org="brand-1")
        reply = await partner.post(
            "/invoices",
            json={
                "kind": "partnership",
                "year": 2025,
                "apparel_revenue_usd": "1",
                "factory_count": 5,
            },
            headers={"Idempotency-Key": "p"},
        )
        assert reply.status_code == 201
        body = {"org": "brand-1", "year": 2025, "factory_id": "fac-1", "reference": "unl_1"}
        assert (await service.post(CLAIM, json=body)).status_code == 403

    async def test_user_tokens_are_refused(self, api: Api) -> None:
        body = {"org": "brand-1", "year": 2025, "factory_id": "fac-1", "reference": "unl_1"}
        reply = await api.client("billing", role="partner", org="brand-1").post(CLAIM, json=body)
        assert reply.status_code == 401


class TestReleaseFootprintClaim:
    async def test_release_undoes_the_claim(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        body = {"org": "brand-1", "year": 2025, "factory_id": "fac-1", "reference": "unl_1"}
        assert (await service.post(CLAIM, json=body)).json()["used"] == 1
        reply = await service.post(RELEASE, json=body)
        assert reply.status_code == 200
        assert reply.json() == {"org": "brand-1", "year": 2025, "footprint": 1, "used": 0}
        other = {**body, "factory_id": "fac-2", "reference": "unl_2"}
        assert (await service.post(CLAIM, json=other)).json()["new_claim"] is True

    async def test_only_the_claiming_reference_releases(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        body = {"org": "brand-1", "year": 2025, "factory_id": "fac-1", "reference": "unl_1"}
        await service.post(CLAIM, json=body)
        free = {**body, "reference": "unl_2"}  # a later unlock of the factory, free
        assert (await service.post(CLAIM, json=free)).json()["new_claim"] is False
        assert (await service.post(RELEASE, json=free)).json()["used"] == 1

    async def test_unknown_claim_is_a_no_op(self, service: httpx.AsyncClient) -> None:
        body = {"org": "brand-9", "year": 2025, "factory_id": "fac-1", "reference": "unl_1"}
        reply = await service.post(RELEASE, json=body)
        assert reply.status_code == 200
        assert reply.json() == {"org": "brand-9", "year": 2025, "footprint": 0, "used": 0}
