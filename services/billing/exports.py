"""An invoice as a PDF: the same facts as its JSON reply (`InvoicePublic`), laid out by
`shared.pdf`, amounts with thousands separators and two decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.billing.domain import InvoiceKind, InvoiceStatus
from services.billing.schemas import InvoicePublic
from shared.pdf import Column, Section, Sheet, Table

__all__ = ["filename", "invoice_sheet"]

KIND_TITLES = {
    InvoiceKind.PARTNERSHIP: "Annual partnership fee",
    InvoiceKind.CREDITS: "Report cycle credits",
}
STATUS_TITLES = {
    InvoiceStatus.ISSUED: "issued, awaiting payment",
    InvoiceStatus.PAID: "paid",
    InvoiceStatus.VOID: "void",
}
LINE_COLUMNS = (
    Column("Description", 7.0),
    Column("Code", 2.4),
    Column("Quantity", 1.6, right=True),
    Column("Unit price", 2.2, right=True),
    Column("Amount", 2.4, right=True),
)


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def invoice_sheet(invoice: InvoicePublic) -> Sheet:
    currency = invoice.currency
    fields = [
        ("Invoice", invoice.id),
        ("Billed to", invoice.org),
        ("For", f"{KIND_TITLES[invoice.kind]}, {invoice.year}"),
        ("Price book", str(invoice.price_book_year)),
        ("Issued", _day(invoice.created_at)),
        ("Status", STATUS_TITLES[invoice.status]),
    ]
    if invoice.report_cycles is not None:
        fields.append(("Credits", f"{invoice.report_cycles} report cycles"))
    if invoice.apparel_revenue_usd is not None:
        fields.append(("Apparel revenue", money(invoice.apparel_revenue_usd, "USD")))
    if invoice.revenue_tier is not None and invoice.footprint_tier is not None:
        fields.append(
            (
                "Tiers",
                f"revenue tier {invoice.revenue_tier}, footprint tier {invoice.footprint_tier}",
            )
        )
    if invoice.factory_count is not None:
        fields.append(("Footprint", f"{invoice.factory_count} factories"))
    rows = [
        (
            line.description,
            line.code,
            str(line.quantity),
            money(line.unit_price, currency),
            money(line.amount, currency),
        )
        for line in invoice.lines
    ]
    rows.append(("Total", "", "", "", money(invoice.total, currency)))
    sections = [Section("Charges", table=Table(LINE_COLUMNS, rows))]
    last_change = invoice.created_at
    if invoice.payment is not None:
        paid = invoice.payment
        reference = f", reference {paid.reference}" if paid.reference else ""
        sections.append(
            Section(
                "Payment",
                (f"{money(paid.amount, currency)} received on {_day(paid.paid_at)}{reference}.",),
            )
        )
        last_change = paid.paid_at
    if invoice.voided_at is not None:
        reason = f": {invoice.void_reason}" if invoice.void_reason else "."
        sections.append(Section("Void", (f"Voided on {_day(invoice.voided_at)}{reason}",)))
        last_change = invoice.voided_at
    return Sheet(
        title=f"Invoice {invoice.id}",
        kind=f"Better Work · {KIND_TITLES[invoice.kind]}",
        fields=fields,
        sections=sections,
        footer=f"Invoice {invoice.id} · {invoice.org} · {invoice.year}",
        dated=last_change,
    )


def filename(invoice: InvoicePublic) -> str:
    return f"invoice-{invoice.id}.pdf"
