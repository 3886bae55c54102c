"""The invoicing rules (SPEC §4): invoice lines from a quote, the invoice state machine
`issued → paid | void` (here and nowhere else), the payment rule, and the kinds of ledger
entry. Pure functions, no I/O; prices and quotes are in `domain/pricing.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.billing.domain.pricing import CURRENCY, ParticipantQuote, PartnerQuote
from shared.errors import Conflict, Unprocessable

__all__ = [
    "EntryKind",
    "IllegalTransition",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceStatus",
    "check_payment",
    "credits_lines",
    "partnership_lines",
    "transition",
]


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


# --- invoice lines ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    code: str
    description: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def partnership_lines(quote: PartnerQuote) -> list[InvoiceLine]:
    revenue, footprint = quote.revenue_tier, quote.footprint_tier
    upper = "" if footprint.max_factories is None else f"-{footprint.max_factories}"
    return [
        InvoiceLine(
            code=f"partnership-revenue-{revenue.tier}",
            description=(
                f"Buyer partnership {quote.year}, component 1: consolidated apparel revenue "
                f"tier {revenue.tier} ({revenue.label})"
            ),
            quantity=1,
            unit_price=revenue.charge,
        ),
        InvoiceLine(
            code=f"partnership-footprint-{footprint.tier}",
            description=(
                f"Buyer partnership {quote.year}, component 2: footprint tier {footprint.tier} "
                f"({footprint.min_factories}{upper or '+'} factories; "
                f"footprint {quote.factory_count})"
            ),
            quantity=1,
            unit_price=footprint.charge,
        ),
    ]


def credits_lines(quote: ParticipantQuote) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            code="report-cycle-credits",
            description=(
                f"Report cycle credits ({quote.volume_price.label} report cycles per purchase, "
                f"price book {quote.price_book_year})"
            ),
            quantity=quote.report_cycles,
            unit_price=quote.unit_price,
        )
    ]


# --- invoices ---------------------------------------------------------------------------


class InvoiceKind(StrEnum):
    PARTNERSHIP = "partnership"  # the annual partner fee; paying it sets the footprint
    CREDITS = "credits"  # report cycle credits of a participant


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


# The whole state machine: paid and void are final.
_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    InvoiceStatus.ISSUED: frozenset({InvoiceStatus.PAID, InvoiceStatus.VOID}),
    InvoiceStatus.PAID: frozenset(),
    InvoiceStatus.VOID: frozenset(),
}
_ACTION = {InvoiceStatus.PAID: "record a payment on", InvoiceStatus.VOID: "void"}


class IllegalTransition(Conflict):
    pass


def transition(*, invoice_id: str, current: InvoiceStatus, target: InvoiceStatus) -> InvoiceStatus:
    """`target` if the machine allows it from `current`; else 409 naming the current state."""
    if target in _TRANSITIONS[current]:
        return target
    action = _ACTION.get(target, f"move to {target.value}")
    raise IllegalTransition(
        f"Cannot {action} invoice {invoice_id}: it is {current.value}. "
        "Only an issued invoice can be paid or voided.",
        current_status=current.value,
    )


def check_payment(*, invoice_id: str, total: Decimal, amount: Decimal) -> None:
    """A payment settles the whole invoice at once: partial and excess payments are refused."""
    if amount == total:
        return
    if amount < total:
        problem = f"is {_fmt(total - amount)} {CURRENCY} short of"
        kind = "Partial payments are not accepted"
    else:
        problem = f"exceeds by {_fmt(amount - total)} {CURRENCY}"
        kind = "Overpayments are not accepted"
    raise Unprocessable(
        f"The payment of {_fmt(amount)} {CURRENCY} {problem} the total of invoice "
        f"{invoice_id} ({_fmt(total)} {CURRENCY}). {kind}: record one payment of exactly "
        f"{total:.2f}.",
        invoice_total=f"{total:.2f}",
    )


# --- the credit ledger ------------------------------------------------------------------


class EntryKind(StrEnum):
    PURCHASE = "purchase"  # credits of a paid credits invoice (reference: the invoice id)
    SPEND = "spend"  # one credit for one unlocked report cycle (reference: the unlock id)
    REFUND = "refund"  # a spend given back (reference: the spend's reference)
    ADJUSTMENT = "adjustment"  # an advisor's correction, with a reason
