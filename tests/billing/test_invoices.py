"""POST/GET /invoices, GET /invoices/{id}, POST /invoices/{id}/payments and /void."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from tests.billing.world import create_invoice, pay
from tests.helpers import ADVISOR_ORG, key
from tests.inprocess import Api

CREDITS = {"kind": "credits", "year": 2025, "report_cycles": 12}
PARTNERSHIP = {
    "kind": "partnership",
    "year": 2025,
    "apparel_revenue_usd": "4000000000",
    "factory_count": 26,
}


class TestCreateInvoice:
    async def test_participant_buys_credits(self, api: Api) -> None:
        client = api.client("billing", role="participant", org="buyer-1")
        reply = await client.post("/invoices", json=CREDITS, headers=key())
        assert reply.status_code == 201, reply.text
        invoice = reply.json()
        assert invoice["id"].startswith("inv_")
        assert {k: invoice[k] for k in ("org", "kind", "status", "year", "price_book_year")} == {
            "org": "buyer-1",
            "kind": "credits",
            "status": "issued",
            "year": 2025,
            "price_book_year": 2024,
        }
        assert (invoice["total"], invoice["currency"], invoice["unit_price"]) == (
            "18480.00",
            "USD",
            "1540.00",
        )
        assert invoice["lines"] == [
            {
                "code": "report-cycle-credits",
                "description": invoice["lines"][0]["description"],
                "quantity": 12,
                "unit_price": "1540.00",
                "amount": "18480.00",
            }
        ]
        assert invoice["payment"] is None

    async def test_partner_is_invoiced_its_partnership(self, api: Api) -> None:
        client = api.client("billing", role="partner", org="brand-1")
        invoice = await create_invoice(client, PARTNERSHIP)
        assert (invoice["kind"], invoice["revenue_tier"], invoice["footprint_tier"]) == (
            "partnership",
            "C",
            2,
        )
        assert [line["amount"] for line in invoice["lines"]] == ["45540.00", "13860.00"]
        assert invoice["total"] == "59400.00"
        assert invoice["factory_count"] == 26
        assert invoice["apparel_revenue_usd"] == "4000000000.00"

    @pytest.mark.parametrize(("role", "body"), [("partner", CREDITS), ("participant", PARTNERSHIP)])
    async def test_the_kind_follows_the_role(
        self, api: Api, role: str, body: dict[str, Any]
    ) -> None:
        reply = await api.client("billing", role=role).post("/invoices", json=body, headers=key())
        assert reply.status_code == 403
        assert "is invoiced with kind" in reply.json()["detail"]

    @pytest.mark.parametrize("role", ["factory", "advisor"])
    async def test_factories_are_never_billed_buyer_fees(self, api: Api, role: str) -> None:
        reply = await api.client("billing", role=role, org="factory-1").post(
            "/invoices", json=CREDITS, headers=key()
        )
        assert reply.status_code == 403

    async def test_one_partnership_invoice_per_year(self, api: Api) -> None:
        client = api.client("billing", role="partner", org="brand-1")
        first = await create_invoice(client, PARTNERSHIP)
        reply = await client.post(
            "/invoices", json={**PARTNERSHIP, "factory_count": 30}, headers=key()
        )
        assert reply.status_code == 409
        assert first["id"] in reply.json()["detail"]
        await create_invoice(client, {**PARTNERSHIP, "year": 2026})  # another year is fine
        advisor = api.client("billing", role="advisor", org=ADVISOR_ORG)
        assert (await advisor.post(f"/invoices/{first['id']}/void")).status_code == 200
        await create_invoice(client, {**PARTNERSHIP, "factory_count": 30})  # after voiding

    async def test_a_year_before_the_first_book_is_422(self, api: Api) -> None:
        reply = await api.client("billing", role="participant").post(
            "/invoices", json={**CREDITS, "year": 2023}, headers=key()
        )
        assert reply.status_code == 422
        assert "no price book for 2023" in reply.json()["detail"]

    async def test_needs_an_idempotency_key(self, api: Api) -> None:
        reply = await api.client("billing", role="participant").post("/invoices", json=CREDITS)
        assert reply.status_code == 400
        assert "Idempotency-Key" in reply.json()["detail"]

    async def test_same_key_same_body_replays(self, api: Api) -> None:
        client = api.client("billing", role="participant", org="buyer-1")
        headers = key()
        first = await client.post("/invoices", json=CREDITS, headers=headers)
        again = await client.post("/invoices", json=CREDITS, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        listed = (await client.get("/invoices")).json()["items"]
        assert [invoice["id"] for invoice in listed] == [first.json()["id"]]

    async def test_same_key_other_body_is_422(self, api: Api) -> None:
        client = api.client("billing", role="participant", org="buyer-1")
        headers = key()
        assert (await client.post("/invoices", json=CREDITS, headers=headers)).status_code == 201
        reply = await client.post(
            "/invoices", json={**CREDITS, "report_cycles": 13}, headers=headers
        )
        assert reply.status_code == 422
        assert "already used for a different request" in reply.json()["detail"]

    async def test_keys_belong_to_one_organisation(self, api: Api) -> None:
        headers = key()
        for org in ("buyer-1", "buyer-2"):
            client = api.client("billing", role="participant", org=org)
            reply = await client.post("/invoices", json=CREDITS, headers=headers)
            assert reply.status_code == 201
            assert reply.json()["org"] == org


class TestListInvoices:
    async def test_buyers_see_their_own_advisors_all(self, api: Api) -> None:
        mine = await create_invoice(
            api.client("billing", role="participant", org="buyer-1"), CREDITS
        )
        theirs = await create_invoice(
            api.client("billing", role="partner", org="brand-1"), PARTNERSHIP
        )
        reply = await api.client("billing", role="participant", org="buyer-1").get("/invoices")
        assert [i["id"] for i in reply.json()["items"]] == [mine["id"]]
        reply = await api.client("billing", role="advisor").get("/invoices")
        assert [i["id"] for i in reply.json()["items"]] == [mine["id"], theirs["id"]]
        reply = await api.client("billing", role="advisor").get("/invoices?org=brand-1")
        assert [i["id"] for i in reply.json()["items"]] == [theirs["id"]]

    async def test_a_buyer_cannot_list_another_org(self, api: Api) -> None:
        client = api.client("billing", role="participant", org="buyer-1")
        assert (await client.get("/invoices?org=buyer-2")).status_code == 403
        assert (await client.get("/invoices?org=buyer-1")).status_code == 200

    async def test_factory_is_403(self, api: Api) -> None:
        assert (await api.client("billing", role="factory").get("/invoices")).status_code == 403

    async def test_filters_and_pages(self, api: Api) -> None:
        client = api.client("billing", role="participant", org="buyer-1")
        created = [await create_invoice(client, CREDITS) for _ in range(5)]
        await pay(api, created[0])
        ids: list[str] = []
        cursor = None
        while True:
            query = "/invoices?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = (await client.get(query)).json()
            assert len(page["items"]) <= 2
            ids += [invoice["id"] for invoice in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert ids == [invoice["id"] for invoice in created]
        paid = (await client.get("/invoices?status=paid")).json()["items"]
        assert [invoice["id"] for invoice in paid] == [created[0]["id"]]
        assert (await client.get("/invoices?kind=partnership")).json()["items"] == []
        assert len((await client.get("/invoices?year=2025")).json()["items"]) == 5
        assert (await client.get("/invoices?year=2026")).json()["items"] == []

    async def test_bad_cursor_is_400(self, api: Api) -> None:
        reply = await api.client("billing", role="advisor").get("/invoices?cursor=%%%")
        assert reply.status_code == 400


class TestGetInvoice:
    async def test_owner_and_advisor_read_it(self, api: Api) -> None:
        invoice = await create_invoice(
            api.client("billing", role="participant", org="buyer-1"), CREDITS
        )
        for client in (
            api.client("billing", role="participant", org="buyer-1"),
            api.client("billing", role="advisor"),
        ):
            reply = await client.get(f"/invoices/{invoice['id']}")
            assert reply.status_code == 200
            assert reply.json() == invoice

    async def test_another_orgs_invoice_is_404(self, api: Api) -> None:
        invoice = await create_invoice(
            api.client("billing", role="participant", org="buyer-1"), CREDITS
        )
        for role in ("participant", "partner"):
            client = api.client("billing", role=role, org="buyer-2")
            assert (await client.get(f"/invoices/{invoice['id']}")).status_code == 404
        factory = api.client("billing", role="factory", org="buyer-1")
        assert (await factory.get(f"/invoices/{invoice['id']}")).status_code == 403

    async def test_unknown_is_404(self, api: Api) -> None:
        reply = await api.client("billing", role="advisor").get("/invoices/inv_nope")
        assert reply.status_code == 404
        assert reply.headers["content-type"] == "application/problem+json"


class TestCreatePayment:
    async def test_paying_a_credits_invoice_posts_the_credits(self, api: Api) -> None:
        participant = api.client("billing", role="participant", org="buyer-1")
        invoice = await create_invoice(participant, CREDITS)
        assert (await participant.get("/credits")).json()["balance"] == 0  # never before paid
        paid = await pay(api, invoice)
        assert paid["status"] == "paid"
        assert paid["payment"]["amount"] == "18480.00"
        assert paid["payment"]["recorded_by"] == "advisor-user@bw"
        credits = (await participant.get("/credits")).json()
        assert credits["balance"] == 12
        assert [(e["kind"], e["delta"], e["reference"]) for e in credits["entries"]] == [
            ("purchase", 12, invoice["id"])
        ]

    async def test_paying_a_partnership_invoice_sets_the_footprint(self, api: Api) -> None:
        partner = api.client("billing", role="partner", org="brand-1")
        invoice = await create_invoice(partner, PARTNERSHIP)
        before = (await partner.get("/footprint?year=2025")).json()
        assert (before["footprint"], before["used"]) == (0, 0)
        await pay(api, invoice)
        after = (await partner.get("/footprint?year=2025")).json()
        assert (after["footprint"], after["used"], after["invoice_id"]) == (26, 0, invoice["id"])
        assert (await partner.get("/footprint?year=2026")).json()["footprint"] == 0

    @pytest.mark.parametrize(
        ("amount", "message"),
        [
            ("18479.99", "0.01 USD short"),
            ("100", "Partial payments are not accepted"),
            ("18480.01", "exceeds by 0.01 USD"),
            (36960, "Overpayments are not accepted"),
        ],
    )
    async def test_partial_or_excess_is_refused(self, api: Api, amount: Any, message: str) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        advisor = api.client("billing", role="advisor")
        reply = await advisor.post(
            f"/invoices/{invoice['id']}/payments", json={"amount": amount}, headers=key()
        )
        assert reply.status_code == 422
        assert message in reply.json()["detail"]
        assert (await advisor.get(f"/invoices/{invoice['id']}")).json()["status"] == "issued"

    async def test_amount_as_number_or_string(self, api: Api) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        reply = await api.client("billing", role="advisor").post(
            f"/invoices/{invoice['id']}/payments",
            json={"amount": 18480, "reference": "BANK-42"},
            headers=key(),
        )
        assert reply.status_code == 201
        assert reply.json()["payment"]["reference"] == "BANK-42"

    @pytest.mark.parametrize("role", ["participant", "partner", "factory"])
    async def test_only_advisors_record_payments(self, api: Api, role: str) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        reply = await api.client("billing", role=role).post(
            f"/invoices/{invoice['id']}/payments", json={"amount": invoice["total"]}, headers=key()
        )
        assert reply.status_code == 403

    async def test_replay_posts_credits_once(self, api: Api) -> None:
        participant = api.client("billing", role="participant", org="buyer-1")
        invoice = await create_invoice(participant, CREDITS)
        advisor = api.client("billing", role="advisor")
        headers = key()
        path = f"/invoices/{invoice['id']}/payments"
        first = await advisor.post(path, json={"amount": invoice["total"]}, headers=headers)
        again = await advisor.post(path, json={"amount": invoice["total"]}, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        other_body = await advisor.post(
            path, json={"amount": invoice["total"], "reference": "x"}, headers=headers
        )
        assert other_body.status_code == 422
        assert (await participant.get("/credits")).json()["balance"] == 12

    async def test_a_second_payment_is_409(self, api: Api) -> None:
        invoice = await pay(
            api, await create_invoice(api.client("billing", role="participant"), CREDITS)
        )
        reply = await api.client("billing", role="advisor").post(
            f"/invoices/{invoice['id']}/payments", json={"amount": invoice["total"]}, headers=key()
        )
        assert reply.status_code == 409
        assert "it is paid" in reply.json()["detail"]
        assert reply.json()["current_status"] == "paid"

    async def test_paying_a_void_invoice_is_409(self, api: Api) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        advisor = api.client("billing", role="advisor")
        assert (await advisor.post(f"/invoices/{invoice['id']}/void")).status_code == 200
        reply = await advisor.post(
            f"/invoices/{invoice['id']}/payments", json={"amount": invoice["total"]}, headers=key()
        )
        assert reply.status_code == 409
        assert "it is void" in reply.json()["detail"]

    async def test_unknown_invoice_is_404(self, api: Api) -> None:
        reply = await api.client("billing", role="advisor").post(
            "/invoices/inv_nope/payments", json={"amount": "1.00"}, headers=key()
        )
        assert reply.status_code == 404

    @pytest.mark.postgres
    async def test_a_retry_while_the_first_is_running_is_409(self, api: Api) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        advisor = api.client("billing", role="advisor")
        path, body, headers = f"/invoices/{invoice['id']}/payments", {"amount": "18480.00"}, key()
        engine = api.apps["billing"].state.engine
        async with engine.connect() as blocker:
            # Hold the invoice's row lock so that the first payment waits mid-flight.
            await blocker.execute(
                text("SELECT id FROM invoice WHERE id = :id FOR UPDATE"), {"id": invoice["id"]}
            )
            first = asyncio.create_task(advisor.post(path, json=body, headers=headers))
            for _ in range(200):
                state = await blocker.scalar(
                    text("SELECT state FROM idempotency_record WHERE key = :key"),
                    {"key": headers["Idempotency-Key"]},
                )
                if state == "in_flight":
                    break
                await asyncio.sleep(0.01)
            retry = await advisor.post(path, json=body, headers=headers)
            assert retry.status_code == 409
            assert retry.headers["Retry-After"] == "1"
            assert "still being processed" in retry.json()["detail"]
            await blocker.rollback()
        assert (await first).status_code == 201
        replay = await advisor.post(path, json=body, headers=headers)
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"

    @pytest.mark.postgres
    async def test_concurrent_payments_pay_once(self, api: Api) -> None:
        participant = api.client("billing", role="participant", org="buyer-1")
        invoice = await create_invoice(participant, CREDITS)
        advisor = api.client("billing", role="advisor")
        replies = await asyncio.gather(
            *(
                advisor.post(
                    f"/invoices/{invoice['id']}/payments",
                    json={"amount": invoice["total"]},
                    headers=key(),
                )
                for _ in range(10)
            )
        )
        assert sorted(r.status_code for r in replies) == [201] + [409] * 9
        assert (await participant.get("/credits")).json()["balance"] == 12


class TestVoidInvoice:
    async def test_void_an_issued_invoice(self, api: Api) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        reply = await api.client("billing", role="advisor").post(
            f"/invoices/{invoice['id']}/void", json={"reason": "ordered twice"}
        )
        assert reply.status_code == 200
        assert (reply.json()["status"], reply.json()["void_reason"]) == ("void", "ordered twice")
        assert reply.json()["voided_at"] is not None

    async def test_void_twice_is_409(self, api: Api) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        advisor = api.client("billing", role="advisor")
        assert (await advisor.post(f"/invoices/{invoice['id']}/void")).status_code == 200
        reply = await advisor.post(f"/invoices/{invoice['id']}/void")
        assert reply.status_code == 409
        assert "it is void" in reply.json()["detail"]

    async def test_a_paid_invoice_cannot_be_voided(self, api: Api) -> None:
        invoice = await pay(
            api, await create_invoice(api.client("billing", role="participant"), CREDITS)
        )
        reply = await api.client("billing", role="advisor").post(f"/invoices/{invoice['id']}/void")
        assert reply.status_code == 409
        assert reply.json()["detail"].startswith(f"Cannot void invoice {invoice['id']}: it is paid")

    @pytest.mark.parametrize("role", ["participant", "partner", "factory"])
    async def test_only_advisors_void(self, api: Api, role: str) -> None:
        invoice = await create_invoice(api.client("billing", role="participant"), CREDITS)
        reply = await api.client("billing", role=role).post(f"/invoices/{invoice['id']}/void")
        assert reply.status_code == 403


class TestUpdatedSince:
    async def test_lists_what_changed_since(self, api: Api) -> None:
        from datetime import UTC, datetime

        participant = api.client("billing", role="participant", org="buyer-1")
        older = await create_invoice(
            participant, {"kind": "credits", "year": 2025, "report_cycles": 1}
        )
        newer = await create_invoice(
            participant, {"kind": "credits", "year": 2025, "report_cycles": 2}
        )
        mark = datetime.now(UTC)
        await pay(api, older)  # paid after the mark: changed since
        changed = await participant.get("/invoices", params={"updated_since": mark.isoformat()})
        assert changed.status_code == 200, changed.text
        assert [i["id"] for i in changed.json()["items"]] == [older["id"]]
        everything = await participant.get(
            "/invoices", params={"updated_since": "2000-01-01T00:00:00Z"}
        )
        assert [i["id"] for i in everything.json()["items"]] == [older["id"], newer["id"]]

    async def test_a_moment_needs_its_zone(self, api: Api) -> None:
        participant = api.client("billing", role="participant", org="buyer-1")
        reply = await participant.get("/invoices", params={"updated_since": "2026-01-01T00:00:00"})
        assert reply.status_code == 422
        assert reply.headers["content-type"] == "application/problem+json"
