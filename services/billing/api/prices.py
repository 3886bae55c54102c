"""Price books and quotes (nothing is stored: a quote is the price book applied)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.billing.api.deps import ParticipantOrAdvisor
from services.billing.domain import pricing
from services.billing.rules import published_price_books
from services.billing.schemas import (
    FIRST_YEAR,
    LAST_YEAR,
    ParticipantQuotePublic,
    ParticipantQuoteRequest,
    PartnerQuotePublic,
    PartnerQuoteRequest,
    PriceBookPublic,
)
from shared.auth import AnyRole, PartnerOrAdvisor

router = APIRouter(tags=["prices"])

PriceYear = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, examples=[2025])]


@router.get("/price-books/{year}")
async def get_price_book(year: PriceYear, _caller: AnyRole) -> PriceBookPublic:
    """The price tables in force for a year (that year's book, or the latest earlier one).

    A year before the first published book is 422.
    """
    return PriceBookPublic.of(published_price_books().in_force(year), year=year)


@router.post("/quotes/partner")
async def create_partner_quote(
    body: PartnerQuoteRequest, _caller: PartnerOrAdvisor
) -> PartnerQuotePublic:
    """The annual partnership fee: revenue tier charge + footprint tier charge."""
    quote = pricing.quote_partner(
        published_price_books(),
        year=body.year,
        apparel_revenue_usd=body.apparel_revenue_usd,
        factory_count=body.factory_count,
    )
    return PartnerQuotePublic.of(quote)


@router.post("/quotes/participant")
async def create_participant_quote(
    body: ParticipantQuoteRequest, _caller: ParticipantOrAdvisor
) -> ParticipantQuotePublic:
    """The price of report cycle credits: unit price by volume times report cycles.

    The unit price depends on how many report cycles are bought in one purchase and applies
    to every one of them.
    """
    quote = pricing.quote_participant(
        published_price_books(), year=body.year, report_cycles=body.report_cycles
    )
    return ParticipantQuotePublic.of(quote)
