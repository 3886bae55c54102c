"""The events billing records, in the transaction of the change (shared.outbox). Who sees
them follows billing's read rule: the invoice's organisation, and advisors (billing serves
every advisor, whatever their programmes)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.billing.models import Invoice
from shared.events import EventData
from shared.events import billing as events
from shared.outbox import ALL_ADVISORS, Pending, Subject, record

__all__ = [
    "credits_exhausted",
    "credits_exhausted_event",
    "credits_purchased",
    "footprint_full",
    "invoice_issued",
    "invoice_paid",
    "invoice_voided",
]


async def _emit(session: AsyncSession, payload: EventData, *, org: str, subject: Subject) -> None:
    await record(session, payload, subject=subject, orgs=[org], countries=[ALL_ADVISORS])


def _invoice(invoice: Invoice) -> Subject:
    return Subject("invoice", invoice.id)


async def _invoice_event(
    session: AsyncSession, model: type[events.InvoiceIssued | events.InvoicePaid], invoice: Invoice
) -> None:
    payload = model(
        invoice_id=invoice.id,
        org=invoice.org,
        kind=invoice.kind,
        year=invoice.year,
        total=f"{invoice.total:.2f}",
        currency=invoice.currency,
    )
    await _emit(session, payload, org=invoice.org, subject=_invoice(invoice))


async def invoice_issued(session: AsyncSession, invoice: Invoice) -> None:
    await _invoice_event(session, events.InvoiceIssued, invoice)


async def invoice_paid(session: AsyncSession, invoice: Invoice) -> None:
    await _invoice_event(session, events.InvoicePaid, invoice)


async def invoice_voided(session: AsyncSession, invoice: Invoice) -> None:
    payload = events.InvoiceVoided(
        invoice_id=invoice.id,
        org=invoice.org,
        kind=invoice.kind,
        reason=invoice.void_reason,
    )
    await _emit(session, payload, org=invoice.org, subject=_invoice(invoice))


async def credits_purchased(
    session: AsyncSession, *, org: str, invoice_id: str, credits: int, balance: int
) -> None:
    payload = events.CreditsPurchased(
        org=org, invoice_id=invoice_id, credits=credits, balance=balance
    )
    await _emit(session, payload, org=org, subject=Subject("credit_account", org))


async def credits_exhausted(session: AsyncSession, *, org: str) -> None:
    event = credits_exhausted_event(org=org)
    await record(
        session, event.payload, subject=event.subject, orgs=event.orgs, countries=event.countries
    )


def credits_exhausted_event(*, org: str) -> Pending:
    """The event of a spend that took the last credit, for a spend that records it in its
    own statement (store/charges.py); `credits_exhausted` records it in a transaction."""
    return Pending(
        events.CreditsExhausted(org=org),
        Subject("credit_account", org),
        orgs=[org],
        countries=[ALL_ADVISORS],
    )


async def footprint_full(
    session: AsyncSession, *, org: str, year: int, footprint: int, used: int
) -> None:
    """In the transaction of the claim that took the footprint's last slot; the subject is
    the partner's footprint (`GET /footprint?org=&year=`; the year is in the data)."""
    payload = events.FootprintFull(org=org, year=year, footprint=footprint, used=used)
    await _emit(session, payload, org=org, subject=Subject("footprint", org))
