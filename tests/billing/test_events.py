"""Billing's events on the integrations feed (issue 10): `footprint.full` when a claim takes
the last slot, `credits.exhausted` when the balance reaches zero, `invoice.voided`; each
recorded once with its change (a replay or a refusal records nothing), seen by the
organisation and advisors only."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.billing.world import become_partner, buy_credits, cancel, charge, create_invoice, pay
from tests.helpers import key
from tests.inprocess import Api
from tests.integrations.world import feed, take_in

CREDITS = {"kind": "credits", "year": 2025, "report_cycles": 2}
# Who else asks the feed: none of them may see another organisation's billing events.
OUTSIDERS = [
    ("partner", "brand-2"),
    ("participant", "buyer-2"),
    ("factory", "fac-1"),
]


async def events_of(api: Api, role: str, org: str, kind: str) -> list[dict[str, Any]]:
    """The events of type `kind` in the feed of (role, org), after taking everything in."""
    await take_in(api)
    client = api.client("integrations", role=role, org=org)
    items: list[dict[str, Any]] = (await feed(client, types=kind, limit=500))["items"]
    return items


async def assert_only_owner_and_advisors(
    api: Api, kind: str, *, role: str, org: str, count: int
) -> None:
    assert len(await events_of(api, role, org, kind)) == count
    assert len(await events_of(api, "advisor", "bw", kind)) == count
    kh = api.client("integrations", role="advisor", org="bw", countries=["KH"])
    assert len((await feed(kh, types=kind))["items"]) == count  # billing: every advisor
    for other_role, other_org in OUTSIDERS:
        assert await events_of(api, other_role, other_org, kind) == [], (other_role, other_org)


class TestFootprintFull:
    @staticmethod
    async def claim(
        service: httpx.AsyncClient, factory: str, reference: str, year: int = 2025
    ) -> httpx.Response:
        return await charge(
            service, "brand-1", reference, kind="footprint", factory_id=factory, year=year
        )

    async def test_the_claim_that_takes_the_last_slot_records_it_once(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=2)
        assert (await self.claim(service, "fac-1", "unl_1.1")).json()["used"] == 1
        assert await events_of(api, "partner", "brand-1", "footprint.full") == []
        free = await self.claim(service, "fac-1", "unl_2.1")  # the same factory: no new slot
        assert (free.json()["used"], free.json()["new_claim"]) == (1, False)
        assert await events_of(api, "partner", "brand-1", "footprint.full") == []
        full = await self.claim(service, "fac-2", "unl_3.1")
        assert (full.status_code, full.json()["used"]) == (201, 2)
        [event] = await events_of(api, "partner", "brand-1", "footprint.full")
        assert event["source"] == "billing"
        assert event["subject"] == {"type": "footprint", "id": "brand-1"}
        assert event["data"] == {"org": "brand-1", "year": 2025, "footprint": 2, "used": 2}

        replay = await self.claim(service, "fac-2", "unl_3.1")  # the same reference again
        assert (replay.status_code, replay.json()["used"]) == (201, 2)
        refused = await self.claim(service, "fac-3", "unl_4.1")
        assert refused.status_code == 403
        free_again = await self.claim(service, "fac-1", "unl_5.1")  # held factory: free
        assert free_again.json()["new_claim"] is False
        await assert_only_owner_and_advisors(
            api, "footprint.full", role="partner", org="brand-1", count=1
        )

    async def test_filling_again_after_a_release_is_a_new_event(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        await self.claim(service, "fac-1", "unl_1.1")
        given_back = await cancel(service, "brand-1", "unl_1.1", kind="footprint")
        assert given_back.json()["cancelled"][0]["given_back"] is True
        assert len(await events_of(api, "partner", "brand-1", "footprint.full")) == 1
        again = await self.claim(service, "fac-2", "unl_2.1")
        assert (again.status_code, again.json()["used"]) == (201, 1)
        events = await events_of(api, "partner", "brand-1", "footprint.full")
        assert [e["data"]["used"] for e in events] == [1, 1]
        assert len({e["id"] for e in events}) == 2

    async def test_each_year_fills_on_its_own(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        await become_partner(api, "brand-1", year=2026, footprint=2)
        await self.claim(service, "fac-1", "unl_1.1", year=2026)
        assert await events_of(api, "partner", "brand-1", "footprint.full") == []
        await self.claim(service, "fac-1", "unl_2.1", year=2025)
        events = await events_of(api, "partner", "brand-1", "footprint.full")
        assert [(e["data"]["year"], e["data"]["used"]) for e in events] == [(2025, 1)]

    @pytest.mark.postgres
    async def test_concurrent_claims_fill_it_once(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=3)
        replies = await asyncio.gather(
            *(self.claim(service, f"fac-{n}", f"unl_{n}.1") for n in range(8))
        )
        assert sorted(r.status_code for r in replies) == [201] * 3 + [403] * 5
        [event] = await events_of(api, "partner", "brand-1", "footprint.full")
        assert event["data"]["used"] == 3


class TestCreditsExhausted:
    async def test_the_spend_of_the_last_credit_records_it_once(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 2)
        first = await charge(service, "buyer-1", "unl_1.1")
        assert (first.status_code, first.json()["balance"]) == (201, 1)
        assert await events_of(api, "participant", "buyer-1", "credits.exhausted") == []
        last = await charge(service, "buyer-1", "unl_2.1")
        assert (last.status_code, last.json()["balance"]) == (201, 0)
        [event] = await events_of(api, "participant", "buyer-1", "credits.exhausted")
        assert event["subject"] == {"type": "credit_account", "id": "buyer-1"}
        assert event["data"] == {"org": "buyer-1", "balance": 0}

        replay = await charge(service, "buyer-1", "unl_2.1")  # the same reference again
        assert (replay.status_code, replay.json()["balance"]) == (201, 0)
        refused = await charge(service, "buyer-1", "unl_3.1")
        assert refused.status_code == 402
        await assert_only_owner_and_advisors(
            api, "credits.exhausted", role="participant", org="buyer-1", count=1
        )

    async def test_each_time_the_balance_empties_again(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 1)
        await charge(service, "buyer-1", "unl_1.1")
        await cancel(service, "buyer-1", "unl_1.1")  # the credit is given back: balance 1
        assert len(await events_of(api, "participant", "buyer-1", "credits.exhausted")) == 1
        await charge(service, "buyer-1", "unl_2.1")
        assert len(await events_of(api, "participant", "buyer-1", "credits.exhausted")) == 2

    async def test_an_advisors_correction_to_zero_records_it(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 3)
        advisor = api.client("billing", role="advisor", org="bw")

        async def adjust(delta: int) -> httpx.Response:
            body = {"org": "buyer-1", "delta": delta, "reason": "correction"}
            return await advisor.post("/credit-adjustments", json=body, headers=key())

        assert (await adjust(-2)).json()["balance_after"] == 1
        assert await events_of(api, "participant", "buyer-1", "credits.exhausted") == []
        assert (await adjust(-2)).status_code == 409  # below zero: refused, nothing recorded
        assert await events_of(api, "participant", "buyer-1", "credits.exhausted") == []
        assert (await adjust(-1)).json()["balance_after"] == 0
        await assert_only_owner_and_advisors(
            api, "credits.exhausted", role="participant", org="buyer-1", count=1
        )

    async def test_a_purchase_records_none(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 5)
        assert await events_of(api, "advisor", "bw", "credits.exhausted") == []


class TestInvoiceVoided:
    async def test_voiding_an_issued_invoice_records_it(self, api: Api) -> None:
        buyer = api.client("billing", role="participant", org="buyer-1")
        invoice = await create_invoice(buyer, CREDITS)
        advisor = api.client("billing", role="advisor", org="bw")
        path = f"/invoices/{invoice['id']}/void"
        reply = await advisor.post(path, json={"reason": "ordered twice"})
        assert reply.status_code == 200, reply.text
        [event] = await events_of(api, "participant", "buyer-1", "invoice.voided")
        assert event["source"] == "billing"
        assert event["subject"] == {"type": "invoice", "id": invoice["id"]}
        assert event["data"] == {
            "invoice_id": invoice["id"],
            "org": "buyer-1",
            "kind": "credits",
            "reason": "ordered twice",
        }
        assert (await advisor.post(path)).status_code == 409  # void again: nothing more
        await assert_only_owner_and_advisors(
            api, "invoice.voided", role="participant", org="buyer-1", count=1
        )

    async def test_a_partners_void_invoice_without_a_reason(self, api: Api) -> None:
        partner = api.client("billing", role="partner", org="brand-1")
        invoice = await create_invoice(
            partner,
            {
                "kind": "partnership",
                "year": 2025,
                "apparel_revenue_usd": "2500000000",
                "factory_count": 3,
            },
        )
        advisor = api.client("billing", role="advisor", org="bw")
        assert (await advisor.post(f"/invoices/{invoice['id']}/void")).status_code == 200
        [event] = await events_of(api, "partner", "brand-1", "invoice.voided")
        assert event["data"]["kind"] == "partnership"
        assert event["data"]["reason"] is None
        assert await events_of(api, "participant", "buyer-1", "invoice.voided") == []

    async def test_a_paid_invoice_is_not_voided_and_records_none(self, api: Api) -> None:
        buyer = api.client("billing", role="participant", org="buyer-1")
        invoice = await pay(api, await create_invoice(buyer, CREDITS))
        advisor = api.client("billing", role="advisor", org="bw")
        assert (await advisor.post(f"/invoices/{invoice['id']}/void")).status_code == 409
        assert await events_of(api, "advisor", "bw", "invoice.voided") == []
