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


@event(
    "invoice.voided",
    "billing",
    "An issued invoice was voided before payment. Seen by the invoice's organisation and advisors.",
)
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


@event(
    "credits.exhausted",
    "billing",
    "The organisation's credit balance reached zero: an unlock (or an advisor's negative "
    "correction) took the last credit. Once per change that empties the balance; a replayed "
    "or refused spend records none. Seen by the organisation and advisors.",
)
class CreditsExhausted(EventData):
    org: str
    balance: Literal[0] = 0


@event(
    "footprint.full",
    "billing",
    "A partner's claim took the last slot of its footprint for a year (`used` reached "
    "`footprint`): further factories cannot be unlocked that year. Recorded each time the "
    "footprint becomes full: when a cancelled unlock frees a slot and a later claim takes it, "
    "a new event. Seen by the partner and advisors.",
)
class FootprintFull(EventData):
    org: str
    year: int
    footprint: int
    used: int
