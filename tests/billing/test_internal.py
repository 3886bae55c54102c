"""The internal contract served to the reports service (services/INTERNAL_API.md): charges
(one reference per payment attempt, one final outcome each), cancellations, the charge list
and the ledger check used by the reconciliation audit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.billing.world import become_partner, buy_credits, cancel, charge
from tests.inprocess import Api


async def ledger(api: Api, org: str) -> dict[str, Any]:
    reply = await api.client("billing", role="advisor").get(f"/credits?org={org}")
    body: dict[str, Any] = reply.json()
    return body


async def check(service: httpx.AsyncClient) -> list[dict[str, Any]]:
    reply = await service.get("/internal/ledger/check")
    assert reply.status_code == 200
    found: list[dict[str, Any]] = reply.json()["discrepancies"]
    return found


async def footprint(api: Api, org: str, year: int = 2025) -> tuple[int, int]:
    body = (
        await api.client("billing", role="advisor").get(f"/footprint?org={org}&year={year}")
    ).json()
    return body["footprint"], body["used"]


class TestCreditCharge:
    async def test_spends_one_credit(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 2)
        reply = await charge(service, "buyer-1", "unl_1.1", reason="unlock fac-1 cycle 1")
        assert reply.status_code == 201, reply.text
        body = reply.json()
        assert {k: body[k] for k in ("org", "reference", "kind", "state", "balance")} == {
            "org": "buyer-1",
            "reference": "unl_1.1",
            "kind": "credit",
            "state": "held",
            "balance": 1,
        }
        entries = (await ledger(api, "buyer-1"))["entries"]
        assert (entries[0]["kind"], entries[0]["reason"]) == ("spend", "unlock fac-1 cycle 1")
        assert await check(service) == []

    async def test_a_repeated_charge_never_spends_twice(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 2)
        first = await charge(service, "buyer-1", "unl_1.1")
        again = await charge(service, "buyer-1", "unl_1.1")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json()["state"] == "held"
        assert (await ledger(api, "buyer-1"))["balance"] == 1

    async def test_zero_balance_is_402_and_changes_nothing(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 1)
        assert (await charge(service, "buyer-1", "unl_1.1")).status_code == 201
        before = await ledger(api, "buyer-1")
        reply = await charge(service, "buyer-1", "unl_2.1")
        assert reply.status_code == 402
        assert reply.headers["content-type"] == "application/problem+json"
        assert "balance of buyer-1 is 0" in reply.json()["detail"]
        assert await ledger(api, "buyer-1") == before
        # A refusal records nothing: the same reference pays once credits arrive.
        await buy_credits(api, "buyer-1", 1)
        assert (await charge(service, "buyer-1", "unl_2.1")).status_code == 201

    async def test_the_last_credit_records_credits_exhausted_once(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 2)
        for reference in ("unl_1.1", "unl_2.1", "unl_2.1"):  # the last one a replay
            assert (await charge(service, "buyer-1", reference)).status_code == 201
        assert (await charge(service, "buyer-1", "unl_3.1")).status_code == 402
        feed = (await service.get("/internal/events")).json()
        exhausted = [e for e in feed["events"] if e["type"] == "credits.exhausted"]
        assert [(e["data"]["org"], e["orgs"], e["countries"]) for e in exhausted] == [
            ("buyer-1", ["buyer-1"], ["*"])
        ]
        sequences = [e["sequence"] for e in feed["events"]]
        assert (
            sequences
            == list(range(1, len(sequences) + 1))
            == list(range(1, feed["last_sequence"] + 1))
        )

    async def test_an_unknown_buyer_has_no_credits(self, service: httpx.AsyncClient) -> None:
        assert (await charge(service, "nobody", "unl_1.1")).status_code == 402

    async def test_a_reference_names_one_kind(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 2)
        await charge(service, "buyer-1", "unl_1.1")
        reply = await charge(service, "buyer-1", "unl_1.1", kind="footprint", year=2025)
        assert reply.status_code == 409
        assert (await ledger(api, "buyer-1"))["balance"] == 1

    async def test_a_footprint_charge_needs_its_year(self, service: httpx.AsyncClient) -> None:
        reply = await charge(service, "brand-1", "unl_1.1", kind="footprint")
        assert reply.status_code == 422

    @pytest.mark.parametrize("role", ["participant", "partner", "advisor", "factory"])
    async def test_user_tokens_are_refused(self, api: Api, role: str) -> None:
        client = api.client("billing", role=role, org="buyer-1")
        assert (await charge(client, "buyer-1", "unl_1.1")).status_code == 401
        assert (await cancel(client, "buyer-1", "unl_1.1")).status_code == 401


class TestCancelCredit:
    async def test_gives_the_credit_back_once(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 1)
        await charge(service, "buyer-1", "unl_1.1")
        first = await cancel(service, "buyer-1", "unl_1.1")
        assert first.status_code == 200
        assert first.json() == {
            "org": "buyer-1",
            "cancelled": [{"reference": "unl_1.1", "state": "released", "given_back": True}],
        }
        again = await cancel(service, "buyer-1", "unl_1.1")
        assert again.json()["cancelled"][0] == {
            "reference": "unl_1.1",
            "state": "released",
            "given_back": False,
        }
        credits = await ledger(api, "buyer-1")
        assert credits["balance"] == 1
        assert [e["kind"] for e in credits["entries"]] == ["refund", "spend", "purchase"]
        assert await check(service) == []

    async def test_a_released_reference_never_charges_again(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        """Issue 9, defect 1: a refunded spend was 'replayed' into a free unlock."""
        await buy_credits(api, "buyer-1", 1)
        await charge(service, "buyer-1", "unl_1.1")
        await cancel(service, "buyer-1", "unl_1.1")
        replay = await charge(service, "buyer-1", "unl_1.1")
        assert replay.status_code == 409
        assert replay.json()["state"] == "released"
        assert (await ledger(api, "buyer-1"))["balance"] == 1

    async def test_cancelling_before_the_charge_arrives_refuses_it(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        """A charge delayed on the network past the caller's give-up charges nothing."""
        await buy_credits(api, "buyer-1", 1)
        reply = await cancel(service, "buyer-1", "unl_1.1")
        assert reply.json()["cancelled"][0] == {
            "reference": "unl_1.1",
            "state": "cancelled",
            "given_back": False,
        }
        late = await charge(service, "buyer-1", "unl_1.1")
        assert late.status_code == 409
        assert late.json()["state"] == "cancelled"
        assert (await ledger(api, "buyer-1"))["balance"] == 1
        assert await check(service) == []

    async def test_cancels_several_references_at_once(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await buy_credits(api, "buyer-1", 2)
        await charge(service, "buyer-1", "unl_1.2")
        reply = await cancel(service, "buyer-1", "unl_1.1", "unl_1.2", "unl_1.1")
        assert [(c["reference"], c["state"]) for c in reply.json()["cancelled"]] == [
            ("unl_1.1", "cancelled"),
            ("unl_1.2", "released"),
        ]
        assert (await ledger(api, "buyer-1"))["balance"] == 2


class TestFootprintCharge:
    async def test_charges_up_to_the_footprint(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=2)

        async def claim(factory: str, reference: str) -> httpx.Response:
            return await charge(
                service, "brand-1", reference, kind="footprint", factory_id=factory, year=2025
            )

        first = await claim("fac-1", "unl_1.1")
        assert first.status_code == 201
        assert {k: first.json()[k] for k in ("year", "footprint", "used", "new_claim")} == {
            "year": 2025,
            "footprint": 2,
            "used": 1,
            "new_claim": True,
        }
        again = await claim("fac-1", "unl_2.1")  # another cycle of the same factory: free
        assert (again.json()["used"], again.json()["new_claim"]) == (1, False)
        assert (await claim("fac-2", "unl_3.1")).json()["used"] == 2
        full = await claim("fac-3", "unl_4.1")
        assert full.status_code == 403
        assert "2 of 2 factories" in full.json()["detail"]
        assert (full.json()["footprint"], full.json()["used"]) == (2, 2)
        assert (await claim("fac-1", "unl_5.1")).json()["new_claim"] is False  # still free
        assert await check(service) == []

    async def test_footprints_are_per_year(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        reply = await charge(service, "brand-1", "unl_1.1", kind="footprint", year=2026)
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
        claim = await charge(service, "brand-1", "unl_1.1", kind="footprint", year=2025)
        assert claim.status_code == 403


class TestCancelFootprint:
    async def test_cancel_frees_the_slot(self, api: Api, service: httpx.AsyncClient) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        await charge(service, "brand-1", "unl_1.1", kind="footprint", year=2025)
        reply = await cancel(service, "brand-1", "unl_1.1", kind="footprint")
        assert reply.json()["cancelled"][0]["given_back"] is True
        assert await footprint(api, "brand-1") == (1, 0)
        other = await charge(
            service, "brand-1", "unl_2.1", kind="footprint", factory_id="fac-2", year=2025
        )
        assert other.json()["new_claim"] is True

    async def test_the_slot_stays_while_another_unlock_of_the_factory_holds_it(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        """Issue 9: giving back the first unlock's claim left a later, free unlock of the
        same factory without any payment behind it."""
        await become_partner(api, "brand-1", year=2025, footprint=1)
        await charge(service, "brand-1", "unl_1.1", kind="footprint", year=2025)
        free = await charge(service, "brand-1", "unl_2.1", kind="footprint", year=2025)
        assert free.json()["new_claim"] is False
        await cancel(service, "brand-1", "unl_1.1", kind="footprint")
        assert await footprint(api, "brand-1") == (1, 1)
        full = await charge(
            service, "brand-1", "unl_3.1", kind="footprint", factory_id="fac-2", year=2025
        )
        assert full.status_code == 403
        await cancel(service, "brand-1", "unl_2.1", kind="footprint")
        assert await footprint(api, "brand-1") == (1, 0)
        assert await check(service) == []

    async def test_unknown_reference_is_marked_and_refused_later(
        self, api: Api, service: httpx.AsyncClient
    ) -> None:
        await become_partner(api, "brand-1", year=2025, footprint=1)
        reply = await cancel(service, "brand-1", "unl_1.1", kind="footprint")
        assert reply.json()["cancelled"][0]["state"] == "cancelled"
        late = await charge(service, "brand-1", "unl_1.1", kind="footprint", year=2025)
        assert late.status_code == 409
        assert await footprint(api, "brand-1") == (1, 0)


class TestChargesAndCheck:
    async def test_lists_charges_by_state(self, api: Api, service: httpx.AsyncClient) -> None:
        await buy_credits(api, "buyer-1", 2)
        await charge(service, "buyer-1", "unl_1.1")
        await charge(service, "buyer-1", "unl_2.1")
        await cancel(service, "buyer-1", "unl_2.1", "unl_3.1")
        held = (await service.get("/internal/charges?state=held")).json()
        assert [c["reference"] for c in held["items"]] == ["unl_1.1"]
        every = (await service.get("/internal/charges?limit=2")).json()
        assert [c["reference"] for c in every["items"]] == ["unl_1.1", "unl_2.1"]
        rest = (await service.get(f"/internal/charges?cursor={every['next_cursor']}")).json()
        assert [(c["reference"], c["state"]) for c in rest["items"]] == [("unl_3.1", "cancelled")]

    @pytest.mark.parametrize(
        ("tamper", "code"),
        [
            ("UPDATE credit_account SET balance = balance + 1", "balance_mismatch"),
            ("DELETE FROM credit_entry WHERE kind = 'spend'", "charge_ledger_mismatch"),
            ("DELETE FROM charge WHERE kind = 'credit'", "entry_without_charge"),
            ("UPDATE partner_footprint SET used = 0", "footprint_mismatch"),
            ("DELETE FROM partner_footprint", "charge_without_footprint"),
        ],
    )
    async def test_the_check_finds_each_kind_of_damage(
        self, api: Api, service: httpx.AsyncClient, tamper: str, code: str
    ) -> None:
        await buy_credits(api, "buyer-1", 2)
        await become_partner(api, "brand-1", year=2025, footprint=2)
        await charge(service, "buyer-1", "unl_1.1")
        await charge(service, "brand-1", "unl_2.1", kind="footprint", year=2025)
        assert await check(service) == []
        async with api.apps["billing"].state.engine.begin() as connection:
            await connection.execute(text(tamper))
        assert code in {d["code"] for d in await check(service)}
