"""Request and response schemas of the billing service (the public contract, API.md).

Money goes out as a string with two decimals plus `currency` (`schemas/money.py`).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.billing import domain
from services.billing.domain import pricing
from services.billing.models import CreditEntry, Invoice, InvoiceLine, PartnerFootprint
from services.billing.schemas.money import Amount, Currency, Money, Revenue
from shared.types import Id, text

__all__ = [
    "AdjustmentCreate",
    "CancelReply",
    "CancelRequest",
    "CancelledPublic",
    "ChargePublic",
    "ChargeRequest",
    "ChargeRow",
    "CreditEntryPublic",
    "CreditsInvoiceCreate",
    "CreditsPublic",
    "DiscrepancyPublic",
    "FootprintPublic",
    "FootprintUsage",
    "InvoiceCreate",
    "InvoicePublic",
    "LedgerCheck",
    "ParticipantQuotePublic",
    "ParticipantQuoteRequest",
    "PartnerQuotePublic",
    "PartnerQuoteRequest",
    "PartnershipInvoiceCreate",
    "PaymentCreate",
    "PriceBookPublic",
    "VoidRequest",
]

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_REPORT_CYCLES = 100_000
MAX_FACTORIES = 100_000


Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR, examples=[2025])]
Text = Annotated[str, text(255)]
Reason = Annotated[str, text(500, multiline=True)]


class _Body(BaseModel):
    """Public request bodies: no type coercion and no unknown fields (a typo is an error)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class _InternalBody(BaseModel):
    """Bodies from other services: unknown fields are ignored, so they can add some."""

    model_config = ConfigDict(strict=True, extra="ignore")


# --- price books and quotes -------------------------------------------------------------


class RevenueTierPublic(BaseModel):
    tier: str
    label: str
    min_usd: Money
    min_inclusive: bool
    max_usd: Money | None
    max_inclusive: bool
    charge: Money


class FootprintTierPublic(BaseModel):
    tier: int
    min_factories: int
    max_factories: int | None
    charge: Money


class VolumePricePublic(BaseModel):
    label: str
    min_report_cycles: int
    max_report_cycles: int | None
    unit_price: Money


class PartnerPrices(BaseModel):
    revenue_tiers: list[RevenueTierPublic]
    footprint_tiers: list[FootprintTierPublic]


class ParticipantPrices(BaseModel):
    unit_prices: list[VolumePricePublic]


class PriceBookPublic(BaseModel):
    year: int = Field(description="The year asked for.")
    price_book_year: int = Field(
        description="The book in force: that year's or the latest earlier."
    )
    currency: Currency
    source: str
    partner: PartnerPrices
    participant: ParticipantPrices

    @classmethod
    def of(cls, book: pricing.PriceBook, *, year: int) -> PriceBookPublic:
        return cls(
            year=year,
            price_book_year=book.year,
            currency="USD",
            source=book.source,
            partner=PartnerPrices(
                revenue_tiers=[RevenueTierPublic(**asdict(t)) for t in book.revenue_tiers],
                footprint_tiers=[FootprintTierPublic(**asdict(t)) for t in book.footprint_tiers],
            ),
            participant=ParticipantPrices(
                unit_prices=[VolumePricePublic(**asdict(p)) for p in book.volume_prices]
            ),
        )


class PartnerQuoteRequest(_Body):
    year: Year
    apparel_revenue_usd: Revenue = Field(
        description="Consolidated apparel revenue in USD (component 1)."
    )
    factory_count: int = Field(
        ge=1,
        le=MAX_FACTORIES,
        description=(
            "Apparel factories in Better Work countries (component 2; the table starts at 1)."
        ),
    )


class ParticipantQuoteRequest(_Body):
    year: Year
    report_cycles: int = Field(
        ge=1, le=MAX_REPORT_CYCLES, description="Factory report cycles bought in one purchase."
    )


class PartnerQuotePublic(BaseModel):
    year: int
    price_book_year: int
    apparel_revenue_usd: Money
    factory_count: int
    revenue_tier: str
    revenue_charge: Money
    footprint_tier: int
    footprint_charge: Money
    total: Money
    currency: Currency

    @classmethod
    def of(cls, quote: pricing.PartnerQuote) -> PartnerQuotePublic:
        return cls(
            year=quote.year,
            price_book_year=quote.price_book_year,
            apparel_revenue_usd=quote.apparel_revenue_usd,
            factory_count=quote.factory_count,
            revenue_tier=quote.revenue_tier.tier,
            revenue_charge=quote.revenue_tier.charge,
            footprint_tier=quote.footprint_tier.tier,
            footprint_charge=quote.footprint_tier.charge,
            total=quote.total,
            currency="USD",
        )


class ParticipantQuotePublic(BaseModel):
    year: int
    price_book_year: int
    report_cycles: int
    unit_price: Money
    total: Money
    currency: Currency

    @classmethod
    def of(cls, quote: pricing.ParticipantQuote) -> ParticipantQuotePublic:
        return cls(
            year=quote.year,
            price_book_year=quote.price_book_year,
            report_cycles=quote.report_cycles,
            unit_price=quote.unit_price,
            total=quote.total,
            currency="USD",
        )


# --- invoices ---------------------------------------------------------------------------


class PartnershipInvoiceCreate(PartnerQuoteRequest):
    kind: Literal["partnership"]


class CreditsInvoiceCreate(ParticipantQuoteRequest):
    kind: Literal["credits"]


InvoiceCreate = Annotated[
    PartnershipInvoiceCreate | CreditsInvoiceCreate, Field(discriminator="kind")
]


class PaymentCreate(_Body):
    amount: Amount = Field(description="Must equal the invoice total: no partial payments.")
    reference: Text | None = Field(None, description="The bank transfer's reference, if any.")


class VoidRequest(_Body):
    reason: Reason | None = None


class InvoiceLinePublic(BaseModel):
    code: str
    description: str
    quantity: int
    unit_price: Money
    amount: Money


class PaymentPublic(BaseModel):
    amount: Money
    reference: str | None
    paid_at: datetime
    recorded_by: str


class InvoicePublic(BaseModel):
    id: str
    org: str = Field(description="The buyer organisation billed.")
    kind: domain.InvoiceKind
    status: domain.InvoiceStatus
    year: int
    price_book_year: int
    total: Money
    currency: Currency
    lines: list[InvoiceLinePublic]
    report_cycles: int | None = Field(None, description="Credits invoices: credits bought.")
    unit_price: Money | None = Field(None, description="Credits invoices: price per credit.")
    apparel_revenue_usd: Money | None = Field(None, description="Partnership invoices.")
    factory_count: int | None = Field(
        None, description="Partnership invoices: the footprint for `year` once paid."
    )
    revenue_tier: str | None = None
    footprint_tier: int | None = None
    created_at: datetime
    created_by: str
    payment: PaymentPublic | None = None
    voided_at: datetime | None = None
    void_reason: str | None = None

    @classmethod
    def of(cls, invoice: Invoice, lines: list[InvoiceLine]) -> InvoicePublic:
        payment = None
        if invoice.paid_at is not None and invoice.paid_amount is not None:
            payment = PaymentPublic(
                amount=invoice.paid_amount,
                reference=invoice.payment_reference,
                paid_at=invoice.paid_at,
                recorded_by=invoice.paid_by or "",
            )
        return cls(
            id=invoice.id,
            org=invoice.org,
            kind=domain.InvoiceKind(invoice.kind),
            status=domain.InvoiceStatus(invoice.status),
            year=invoice.year,
            price_book_year=invoice.price_book_year,
            total=invoice.total,
            currency="USD",
            lines=[
                InvoiceLinePublic(
                    code=line.code,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.amount,
                )
                for line in lines
            ],
            report_cycles=invoice.report_cycles,
            unit_price=invoice.unit_price,
            apparel_revenue_usd=invoice.apparel_revenue_usd,
            factory_count=invoice.factory_count,
            revenue_tier=invoice.revenue_tier,
            footprint_tier=invoice.footprint_tier,
            created_at=invoice.created_at,
            created_by=invoice.created_by,
            payment=payment,
            voided_at=invoice.voided_at,
            void_reason=invoice.void_reason,
        )


# --- credits and footprint --------------------------------------------------------------


class CreditEntryPublic(BaseModel):
    id: str
    kind: domain.EntryKind
    delta: int = Field(description="Signed: a spend is -1.")
    balance_after: int
    reference: str
    reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: CreditEntry) -> CreditEntryPublic:
        return cls(
            id=entry.id,
            kind=domain.EntryKind(entry.kind),
            delta=entry.delta,
            balance_after=entry.balance_after,
            reference=entry.reference,
            reason=entry.reason,
            created_at=entry.created_at,
        )


class CreditsPublic(BaseModel):
    org: str
    balance: int
    entries: list[CreditEntryPublic] = Field(description="Newest first, one page at a time.")
    next_cursor: str | None = None


class AdjustmentCreate(_Body):
    org: Id = Field(description="The buyer organisation whose balance is corrected.")
    delta: int = Field(ge=-MAX_REPORT_CYCLES, le=MAX_REPORT_CYCLES, description="Not 0.")
    reason: Reason
    reference: Text | None = Field(
        None, description="E.g. a support ticket; default: the entry id."
    )


class FootprintUsage(BaseModel):
    org: str
    year: int
    footprint: int = Field(description="Distinct factories the partner may unlock in `year`.")
    used: int


class FootprintPublic(FootprintUsage):
    remaining: int
    invoice_id: str | None = Field(description="The paid partnership invoice that set it.")

    @classmethod
    def of(cls, *, org: str, year: int, row: PartnerFootprint | None) -> FootprintPublic:
        footprint, used = (row.footprint, row.used) if row else (0, 0)
        return cls(
            org=org,
            year=year,
            footprint=footprint,
            used=used,
            remaining=footprint - used,
            invoice_id=row.invoice_id if row else None,
        )


# --- internal (reports service) ---------------------------------------------------------


ChargeKind = Literal["credit", "footprint"]
ChargeState = Literal["held", "released", "cancelled"]


class ChargeRequest(_InternalBody):
    org: Text
    reference: Text = Field(
        description="The payment attempt's own reference: it pays once, and once cancelled "
        "it never charges."
    )
    kind: ChargeKind = Field(description="credit: one report credit; footprint: a slot.")
    factory_id: Text
    year: Year | None = Field(
        None, description="Footprint charges: the footprint year (the unlock's date decides)."
    )
    reason: Reason | None = None

    @model_validator(mode="after")
    def _year_for_footprint(self) -> ChargeRequest:
        if self.kind == "footprint" and self.year is None:
            raise ValueError("a footprint charge needs the footprint year")
        return self


class ChargePublic(BaseModel):
    org: str
    reference: str
    kind: ChargeKind
    factory_id: str
    year: int | None
    state: ChargeState
    balance: int | None = Field(None, description="Credit charges: the credits left.")
    footprint: int | None = Field(None, description="Footprint charges: the year's footprint.")
    used: int | None = Field(None, description="Footprint charges: distinct factories used.")
    new_claim: bool = Field(False, description="This charge took a new footprint slot.")


class CancelRequest(_InternalBody):
    org: Text
    kind: ChargeKind
    factory_id: Text
    references: list[Text] = Field(min_length=1, max_length=100)


class CancelledPublic(BaseModel):
    reference: str
    state: ChargeState
    given_back: bool = Field(description="This call gave back a held credit or slot.")


class CancelReply(BaseModel):
    org: str
    cancelled: list[CancelledPublic]


class ChargeRow(BaseModel):
    org: str
    reference: str
    kind: ChargeKind
    factory_id: str
    year: int | None
    state: ChargeState
    created_at: datetime
    updated_at: datetime


class DiscrepancyPublic(BaseModel):
    code: str
    org: str
    detail: str
    reference: str | None = None
    year: int | None = None


class LedgerCheck(BaseModel):
    checked_at: datetime
    discrepancies: list[DiscrepancyPublic]
