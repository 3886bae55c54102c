"""Invoices as PDFs (`GET /invoices/{id}/invoice.pdf`, or `GET /invoices/{id}` with `Accept:
application/pdf`): answered exactly where the JSON is; the page shows the lines, the total and
the payment or the voiding, as poppler reads them."""

from __future__ import annotations

import re

import pytest

from tests.billing.world import create_invoice, pay
from tests.helpers import ADVISOR_ORG, key
from tests.inprocess import Api
from tests.pdf_tools import assert_pdf, pdf_text

PDF = {"Accept": "application/pdf"}
CREDITS = {"kind": "credits", "year": 2025, "report_cycles": 12}
PARTNERSHIP = {
    "kind": "partnership",
    "year": 2025,
    "apparel_revenue_usd": "2500000000",
    "factory_count": 40,
}

# caller → (role, org, the JSON's status on buyer-1's credits invoice)
CALLERS: dict[str, tuple[str, str, int]] = {
    "participant, its own": ("participant", "buyer-1", 200),
    "participant, another org": ("participant", "buyer-2", 404),
    "partner, another org": ("partner", "brand-1", 404),
    "partner of the same org name": ("partner", "buyer-1", 200),
    "factory": ("factory", "buyer-1", 403),
    "advisor": ("advisor", ADVISOR_ORG, 200),
}


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_pdf_answers_exactly_where_json_does(api: Api, caller: str) -> None:
    invoice = await create_invoice(
        api.client("billing", role="participant", org="buyer-1"), CREDITS
    )
    role, org, expected = CALLERS[caller]
    client = api.client("billing", role=role, org=org)
    path = f"/invoices/{invoice['id']}"
    as_json, as_file, negotiated = (
        await client.get(path),
        await client.get(f"{path}/invoice.pdf"),
        await client.get(path, headers=PDF),
    )
    assert as_json.status_code == as_file.status_code == negotiated.status_code == expected
    if expected != 200:
        assert as_file.headers["content-type"] == "application/problem+json"
        assert as_file.json()["detail"] == as_json.json()["detail"]
        return
    assert as_json.json() == invoice
    text = assert_pdf(as_file)
    assert negotiated.content == as_file.content
    assert invoice["id"] in text


async def test_a_credits_invoice_through_payment(api: Api) -> None:
    buyer = api.client("billing", role="participant", org="buyer-1")
    invoice = await create_invoice(buyer, CREDITS)
    issued = await buyer.get(f"/invoices/{invoice['id']}/invoice.pdf")
    assert_pdf(issued)
    layout = pdf_text(issued.content, layout=True)
    assert re.search(r"Status +issued, awaiting payment\n", layout)
    assert re.search(r"Credits +12 report cycles\n", layout)
    assert re.search(r"Billed to +buyer-1\n", layout)
    assert "USD 1,540.00" in layout and "USD 18,480.00" in layout
    assert re.search(r"Total +USD 18,480.00\n", layout)
    assert issued.headers["content-disposition"] == (
        f'attachment; filename="invoice-{invoice["id"]}.pdf"'
    )

    advisor = api.client("billing", role="advisor", org=ADVISOR_ORG)
    reply = await advisor.post(
        f"/invoices/{invoice['id']}/payments",
        json={"amount": "18480.00", "reference": "WIRE-2025-001"},
        headers=key(),
    )
    assert reply.status_code == 201, reply.text
    paid = await buyer.get(f"/invoices/{invoice['id']}/invoice.pdf")
    text = " ".join(assert_pdf(paid).split())
    assert "USD 18,480.00 received on" in text and "reference WIRE-2025-001" in text
    assert re.search(r"Status +paid\n", pdf_text(paid.content, layout=True))


async def test_a_partnership_invoice_and_a_void_one(api: Api) -> None:
    partner = api.client("billing", role="partner", org="brand-1")
    invoice = await create_invoice(partner, PARTNERSHIP)
    text = pdf_text((await partner.get(f"/invoices/{invoice['id']}/invoice.pdf")).content)
    assert "Annual partnership fee, 2025" in " ".join(text.split())
    for line in invoice["lines"]:
        assert line["description"] in " ".join(text.split())

    advisor = api.client("billing", role="advisor", org=ADVISOR_ORG)
    reply = await advisor.post(
        f"/invoices/{invoice['id']}/void", json={"reason": "Wrong revenue figure"}
    )
    assert reply.status_code == 200, reply.text
    voided = await partner.get(f"/invoices/{invoice['id']}", headers=PDF)
    text = " ".join(assert_pdf(voided).split())
    assert "Wrong revenue figure" in text


async def test_paid_invoice_pdf_is_stable(api: Api) -> None:
    """The PDF is dated by the invoice's own last change, so downloads are the same bytes."""
    invoice = await pay(
        api,
        await create_invoice(api.client("billing", role="participant", org="buyer-1"), CREDITS),
    )
    buyer = api.client("billing", role="participant", org="buyer-1")
    first = await buyer.get(f"/invoices/{invoice['id']}/invoice.pdf")
    second = await buyer.get(f"/invoices/{invoice['id']}/invoice.pdf")
    assert first.content == second.content


async def test_through_the_gateway(api: Api, gateway_api: Api) -> None:
    invoice = await create_invoice(
        api.client("billing", role="participant", org="buyer-1"), CREDITS
    )
    buyer = gateway_api.client("gateway", role="participant", org="buyer-1")
    path = f"/v1/billing/invoices/{invoice['id']}"
    as_file = await buyer.get(f"{path}/invoice.pdf")
    assert_pdf(as_file)
    assert (await buyer.get(path, headers=PDF)).content == as_file.content
    other = gateway_api.client("gateway", role="participant", org="buyer-2")
    assert (await other.get(f"{path}/invoice.pdf")).status_code == 404
