"""Invoices in the database: issue, read, list, pay and void (the caller's session commits).

Payment and voiding lock the invoice row first, so two advisors acting at once are served
one after the other, and the second meets the state the first left (409 from the domain's
state machine).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.billing import domain, events
from services.billing.domain import pricing
from services.billing.models import Invoice, InvoiceLine
from services.billing.store import ledger
from shared import clock
from shared.errors import Conflict
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "get_invoice",
    "issue_credits_invoice",
    "issue_partnership_invoice",
    "lines_of",
    "list_invoices",
    "pay_invoice",
    "void_invoice",
]


async def _add(*, session: AsyncSession, invoice: Invoice, lines: list[domain.InvoiceLine]) -> None:
    session.add(invoice)
    session.add_all(
        InvoiceLine(
            invoice_id=invoice.id,
            position=position,
            code=line.code,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
        )
        for position, line in enumerate(lines, start=1)
    )
    await session.flush()


async def _open_partnership(*, session: AsyncSession, org: str, year: int) -> Invoice | None:
    statement = sa.select(Invoice).where(
        col(Invoice.org) == org,
        col(Invoice.year) == year,
        col(Invoice.kind) == domain.InvoiceKind.PARTNERSHIP.value,
        col(Invoice.status) != domain.InvoiceStatus.VOID.value,
    )
    invoice: Invoice | None = (await session.scalars(statement)).first()
    return invoice


def _already_invoiced(org: str, invoice: Invoice | None, year: int) -> Conflict:
    which = f"invoice {invoice.id} ({invoice.status})" if invoice else "an invoice"
    return Conflict(
        f"{org} already has a partnership {which} for {year}: one partnership invoice per "
        "year sets the footprint. An advisor can void an unpaid one to issue a new one.",
        invoice_id=invoice.id if invoice else None,
    )


async def issue_partnership_invoice(
    *, session: AsyncSession, org: str, by: str, quote: pricing.PartnerQuote
) -> Invoice:
    existing = await _open_partnership(session=session, org=org, year=quote.year)
    if existing is not None:
        raise _already_invoiced(org, existing, quote.year)
    invoice = Invoice(
        id=new_id("inv"),
        org=org,
        kind=domain.InvoiceKind.PARTNERSHIP.value,
        status=domain.InvoiceStatus.ISSUED.value,
        year=quote.year,
        price_book_year=quote.price_book_year,
        currency=pricing.CURRENCY,
        total=quote.total,
        apparel_revenue_usd=quote.apparel_revenue_usd,
        factory_count=quote.factory_count,
        revenue_tier=quote.revenue_tier.tier,
        footprint_tier=quote.footprint_tier.tier,
        created_by=by,
        created_at=clock.now(),
    )
    try:
        await _add(session=session, invoice=invoice, lines=domain.partnership_lines(quote))
    except IntegrityError as exc:  # a concurrent request issued one first
        raise _already_invoiced(org, None, quote.year) from exc
    await events.invoice_issued(session, invoice)
    return invoice


async def issue_credits_invoice(
    *, session: AsyncSession, org: str, by: str, quote: pricing.ParticipantQuote
) -> Invoice:
    invoice = Invoice(
        id=new_id("inv"),
        org=org,
        kind=domain.InvoiceKind.CREDITS.value,
        status=domain.InvoiceStatus.ISSUED.value,
        year=quote.year,
        price_book_year=quote.price_book_year,
        currency=pricing.CURRENCY,
        total=quote.total,
        report_cycles=quote.report_cycles,
        unit_price=quote.unit_price,
        created_by=by,
        created_at=clock.now(),
    )
    await _add(session=session, invoice=invoice, lines=domain.credits_lines(quote))
    await events.invoice_issued(session, invoice)
    return invoice


async def get_invoice(
    *, session: AsyncSession, invoice_id: str, for_update: bool = False
) -> Invoice | None:
    statement = sa.select(Invoice).where(col(Invoice.id) == invoice_id)
    if for_update:
        statement = statement.with_for_update()
    invoice: Invoice | None = (
        await session.scalars(statement.execution_options(populate_existing=True))
    ).first()
    return invoice


async def lines_of(
    *, session: AsyncSession, invoice_ids: Sequence[str]
) -> dict[str, list[InvoiceLine]]:
    found: dict[str, list[InvoiceLine]] = {invoice_id: [] for invoice_id in invoice_ids}
    if invoice_ids:
        statement = (
            sa.select(InvoiceLine)
            .where(col(InvoiceLine.invoice_id).in_(invoice_ids))
            .order_by(col(InvoiceLine.invoice_id), col(InvoiceLine.position))
        )
        for line in await session.scalars(statement):
            found[line.invoice_id].append(line)
    return found


async def list_invoices(
    *,
    session: AsyncSession,
    page: PageParams,
    org: str | None,
    status: domain.InvoiceStatus | None,
    kind: domain.InvoiceKind | None,
    year: int | None,
    updated_since: datetime | None = None,
) -> tuple[list[Invoice], str | None]:
    """Oldest first (ids sort by creation time); `org=None` lists every organisation's."""
    statement = sa.select(Invoice)
    if org is not None:
        statement = statement.where(col(Invoice.org) == org)
    if status is not None:
        statement = statement.where(col(Invoice.status) == status.value)
    if kind is not None:
        statement = statement.where(col(Invoice.kind) == kind.value)
    if year is not None:
        statement = statement.where(col(Invoice.year) == year)
    if updated_since is not None:
        # An invoice changes when issued, then once more when paid or voided.
        changed = sa.func.coalesce(
            col(Invoice.voided_at), col(Invoice.paid_at), col(Invoice.created_at)
        )
        statement = statement.where(changed >= updated_since)
    rows, cursor = await paginate(session, statement, page, key=[sort_key(Invoice.id, str)])
    return rows, cursor


async def pay_invoice(
    *,
    session: AsyncSession,
    invoice: Invoice,
    amount: Decimal,
    reference: str | None,
    by: str,
) -> None:
    """Record the payment of the whole total (`invoice` locked with `for_update`), then post
    what it buys: the credits, or the footprint of the partnership year."""
    domain.check_payment(invoice_id=invoice.id, total=invoice.total, amount=amount)
    invoice.status = domain.transition(
        invoice_id=invoice.id,
        current=domain.InvoiceStatus(invoice.status),
        target=domain.InvoiceStatus.PAID,
    ).value
    invoice.paid_amount = amount
    invoice.paid_at = clock.now()
    invoice.paid_by = by
    invoice.payment_reference = reference
    await session.flush()
    await events.invoice_paid(session, invoice)
    if invoice.kind == domain.InvoiceKind.CREDITS and invoice.report_cycles:
        entry = await ledger.post_purchase(
            session=session,
            org=invoice.org,
            credits=invoice.report_cycles,
            invoice_id=invoice.id,
            by=by,
        )
        await events.credits_purchased(
            session,
            org=invoice.org,
            invoice_id=invoice.id,
            credits=invoice.report_cycles,
            balance=entry.balance_after,
        )
    elif invoice.kind == domain.InvoiceKind.PARTNERSHIP and invoice.factory_count:
        await ledger.set_footprint(
            session=session,
            org=invoice.org,
            year=invoice.year,
            footprint=invoice.factory_count,
            invoice_id=invoice.id,
        )


async def void_invoice(
    *, session: AsyncSession, invoice: Invoice, reason: str | None, by: str
) -> None:
    """Void an issued invoice (`invoice` locked with `for_update`)."""
    invoice.status = domain.transition(
        invoice_id=invoice.id,
        current=domain.InvoiceStatus(invoice.status),
        target=domain.InvoiceStatus.VOID,
    ).value
    invoice.voided_at = clock.now()
    invoice.voided_by = by
    invoice.void_reason = reason
    await session.flush()
    await events.invoice_voided(session, invoice)
