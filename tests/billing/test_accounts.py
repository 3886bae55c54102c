"""GET /credits, POST /credit-adjustments, GET /footprint."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.billing.world import become_partner, buy_credits, cancel, charge
from tests.helpers import key
from tests.inprocess import Api


class TestGetCredits:
    async def test_balance_and_ledger_newest_first(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 3)
        assert (await charge(service, "buyer-1", "unl_1")).status_code == 201
        assert (await charge(service, "buyer-1", "unl_2")).status_code == 201
        assert (await cancel(service, "buyer-1", "unl_1")).status_code == 200
        reply = await api.client("billing", role="participant", org="buyer-1").get("/credits")
        assert reply.status_code == 200
        credits = reply.json()
        assert (credits["org"], credits["balance"], credits["next_cursor"]) == ("buyer-1", 2, None)
        entries = credits["entries"]
        assert [(e["kind"], e["delta"], e["reference"], e["balance_after"]) for e in entries] == [
            ("refund", 1, "unl_1", 2),
            ("spend", -1, "unl_2", 1),
            ("spend", -1, "unl_1", 2),
            ("purchase", 3, entries[3]["reference"], 3),
        ]
        assert entries[3]["reference"].startswith("inv_")
        for entry in entries:
            assert datetime.fromisoformat(entry["created_at"]).tzinfo is not None

    async def test_the_balance_is_the_sum_of_the_ledger(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 2)
        await buy_credits(api, "buyer-1", 61)
        for n in range(5):
            await charge(service, "buyer-1", f"unl_{n}")
        credits = (
            await api.client("billing", role="participant", org="buyer-1").get("/credits")
        ).json()
        assert credits["balance"] == sum(e["delta"] for e in credits["entries"]) == 58

    async def test_entries_page_by_cursor(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 5)
        for n in range(5):
            await charge(service, "buyer-1", f"unl_{n}")
        client = api.client("billing", role="participant", org="buyer-1")
        seen, cursor = [], None
        while True:
            page = (
                await client.get(
                    "/credits", params={"limit": 4, "cursor": cursor} if cursor else {"limit": 4}
                )
            ).json()
            assert page["balance"] == 0
            seen += [e["id"] for e in page["entries"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 6
        assert seen == sorted(seen, reverse=True)

    async def test_no_account_yet_is_a_zero_balance(self, api: Api) -> None:
        reply = await api.client("billing", role="participant", org="new-buyer").get("/credits")
        assert reply.json() == {
            "org": "new-buyer",
            "balance": 0,
            "entries": [],
            "next_cursor": None,
        }

    async def test_advisor_names_the_org(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 2)
        advisor = api.client("billing", role="advisor")
        assert (await advisor.get("/credits?org=buyer-1")).json()["balance"] == 2
        reply = await advisor.get("/credits")
        assert reply.status_code == 422
        assert "?org=" in reply.json()["detail"]

    async def test_a_participant_reads_only_its_own(self, api: Api) -> None:
        client = api.client("billing", role="participant", org="buyer-1")
        assert (await client.get("/credits?org=buyer-2")).status_code == 403

    @pytest.mark.parametrize("role", ["partner", "factory"])
    async def test_other_roles_are_403(self, api: Api, role: str) -> None:
        assert (await api.client("billing", role=role).get("/credits")).status_code == 403


class TestCreateCreditAdjustment:
    async def test_add_and_take_with_a_reason(self, api: Api) -> None:
        advisor = api.client("billing", role="advisor")
        reply = await advisor.post(
            "/credit-adjustments",
            json={"org": "buyer-1", "delta": 3, "reason": "goodwill", "reference": "TICKET-7"},
            headers=key(),
        )
        assert reply.status_code == 201, reply.text
        entry = reply.json()
        assert (entry["kind"], entry["delta"], entry["balance_after"]) == ("adjustment", 3, 3)
        assert (entry["reference"], entry["reason"]) == ("TICKET-7", "goodwill")
        reply = await advisor.post(
            "/credit-adjustments",
            json={"org": "buyer-1", "delta": -2, "reason": "bought twice"},
            headers=key(),
        )
        assert reply.status_code == 201
        assert reply.json()["balance_after"] == 1
        assert reply.json()["reference"] == reply.json()["id"]
        assert (await advisor.get("/credits?org=buyer-1")).json()["balance"] == 1

    async def test_never_below_zero(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 1)
        advisor = api.client("billing", role="advisor")
        reply = await advisor.post(
            "/credit-adjustments",
            json={"org": "buyer-1", "delta": -2, "reason": "correction"},
            headers=key(),
        )
        assert reply.status_code == 409
        assert "the balance is 1" in reply.json()["detail"]
        assert (await advisor.get("/credits?org=buyer-1")).json()["balance"] == 1

    async def test_zero_is_422(self, api: Api) -> None:
        reply = await api.client("billing", role="advisor").post(
            "/credit-adjustments", json={"org": "buyer-1", "delta": 0, "reason": "x"}, headers=key()
        )
        assert reply.status_code == 422

    async def test_replayed_once(self, api: Api) -> None:
        advisor = api.client("billing", role="advisor")
        headers = key()
        body = {"org": "buyer-1", "delta": 2, "reason": "goodwill"}
        first = await advisor.post("/credit-adjustments", json=body, headers=headers)
        again = await advisor.post("/credit-adjustments", json=body, headers=headers)
        assert again.json() == first.json()
        assert (await advisor.get("/credits?org=buyer-1")).json()["balance"] == 2

    @pytest.mark.parametrize("role", ["participant", "partner", "factory"])
    async def test_only_advisors(self, api: Api, role: str) -> None:
        reply = await api.client("billing", role=role, org="buyer-1").post(
            "/credit-adjustments", json={"org": "buyer-1", "delta": 5, "reason": "x"}, headers=key()
        )
        assert reply.status_code == 403


class TestGetFootprint:
    async def test_footprint_and_used(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=2)
        claim = await charge(service, "brand-1", "unl_1", kind="footprint", year=2025)
        assert claim.status_code == 201
        reply = await api.client("billing", role="partner", org="brand-1").get(
            "/footprint?year=2025"
        )
        assert reply.status_code == 200
        footprint = reply.json()
        assert {k: footprint[k] for k in ("org", "year", "footprint", "used", "remaining")} == {
            "org": "brand-1",
            "year": 2025,
            "footprint": 2,
            "used": 1,
            "remaining": 1,
        }

    async def test_defaults_to_this_year(self, api: Api) -> None:
        reply = await api.client("billing", role="partner", org="brand-1").get("/footprint")
        assert reply.json()["year"] == datetime.now(UTC).year
        assert (reply.json()["footprint"], reply.json()["invoice_id"]) == (0, None)

    async def test_advisor_names_the_org(self, api: Api) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=7)
        advisor = api.client("billing", role="advisor")
        reply = await advisor.get("/footprint?org=brand-1&year=2025")
        assert reply.json()["footprint"] == 7

    @pytest.mark.parametrize("role", ["participant", "factory"])
    async def test_other_roles_are_403(self, api: Api, role: str) -> None:
        assert (await api.client("billing", role=role).get("/footprint")).status_code == 403

    async def test_a_partner_reads_only_its_own(self, api: Api) -> None:
        client = api.client("billing", role="partner", org="brand-1")
        assert (await client.get("/footprint?org=brand-2")).status_code == 403
