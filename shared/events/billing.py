"""Events of the billing service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events import EventData, event

MONEY = Field(description='Decimal string with two places, e.g. "13200.00".')


class _Invoice(EventData):
    invoice_id: str
    org: str
    kind: Literal["partnership", "credits"]
    year: int
    total: str = MONEY
    currency: str


@event("invoice.issued", "billing", "An invoice was issued to the organisation.")
class InvoiceIssued(_Invoice):
    pass


@event("invoice.paid", "billing", "An invoice was paid (credits are posted, or the footprint set).")
class InvoicePaid(_Invoice):
    pass


@event("invoice.voided", "billing", "An invoice was voided before payment.")
class InvoiceVoided(EventData):
    invoice_id: str
    org: str
    kind: Literal["partnership", "credits"]
    reason: str | None = None


@event("credits.purchased", "billing", "Credits of a paid invoice were posted to the balance.")
class CreditsPurchased(EventData):
    org: str
    invoice_id: str
    credits: int
    balance: int


@event("credits.exhausted", "billing", "The organisation's credit balance reached zero.")
class CreditsExhausted(EventData):
    org: str
    balance: Literal[0] = 0


@event("footprint.full", "billing", "A partner's footprint for a year is fully used.")
class FootprintFull(EventData):
    org: str
    year: int
    footprint: int
    used: int
