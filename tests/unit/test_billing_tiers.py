"""SPEC §4 tier boundaries, every one on both sides (price book 2024, Appendix 1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.billing import domain
from services.billing.domain import pricing
from services.billing.rules import published_price_books
from shared.errors import Unprocessable

BOOKS = published_price_books()
BN = Decimal(1_000_000_000)
CENT = Decimal("0.01")


@pytest.mark.parametrize(
    ("revenue", "tier", "charge"),
    [
        (Decimal(0), "A", "13200.00"),
        (BN - CENT, "A", "13200.00"),
        (BN, "B", "23100.00"),
        (4 * BN - CENT, "B", "23100.00"),
        (4 * BN, "C", "45540.00"),
        (10 * BN - CENT, "C", "45540.00"),
        (10 * BN, "D", "69960.00"),
        (15 * BN, "D", "69960.00"),  # "10 bn up to and incl. 15 bn"
        (15 * BN + CENT, "E", "131010.00"),
        (Decimal("9999999999999999.99"), "E", "131010.00"),
    ],
)
def test_revenue_tier(revenue: Decimal, tier: str, charge: str) -> None:
    quote = pricing.quote_partner(BOOKS, year=2024, apparel_revenue_usd=revenue, factory_count=1)
    assert quote.revenue_tier.tier == tier
    assert quote.revenue_tier.charge == Decimal(charge)


@pytest.mark.parametrize(
    ("factories", "tier", "charge"),
    [
        (1, 1, "8360.00"),
        (25, 1, "8360.00"),
        (26, 2, "13860.00"),
        (50, 2, "13860.00"),
        (51, 3, "24310.00"),
        (100, 3, "24310.00"),
        (101, 4, "41580.00"),
        (200, 4, "41580.00"),
        (201, 5, "76230.00"),
        (250, 5, "76230.00"),
        (251, 6, "90090.00"),
        (100_000, 6, "90090.00"),
    ],
)
def test_footprint_tier(factories: int, tier: int, charge: str) -> None:
    quote = pricing.quote_partner(
        BOOKS, year=2024, apparel_revenue_usd=Decimal(0), factory_count=factories
    )
    assert quote.footprint_tier.tier == tier
    assert quote.footprint_tier.charge == Decimal(charge)


@pytest.mark.parametrize(
    ("report_cycles", "unit_price"),
    [
        (1, "1650.00"),
        (9, "1650.00"),  # "fewer than 10"
        (10, "1540.00"),
        (20, "1540.00"),
        (21, "1430.00"),
        (40, "1430.00"),
        (41, "1320.00"),
        (60, "1320.00"),
        (61, "1210.00"),  # "above 60"
        (10_000, "1210.00"),
    ],
)
def test_participant_unit_price(report_cycles: int, unit_price: str) -> None:
    quote = pricing.quote_participant(BOOKS, year=2024, report_cycles=report_cycles)
    assert quote.unit_price == Decimal(unit_price)
    assert quote.total == Decimal(unit_price) * report_cycles


@pytest.mark.parametrize(
    ("revenue", "factories", "total"),
    [
        ("0", 1, "21560.00"),  # A + 1
        ("2500000000", 50, "36960.00"),  # B + 2
        ("15000000000", 251, "160050.00"),  # D + 6
        ("15000000000.01", 300, "221100.00"),  # E + 6
    ],
)
def test_partner_total_is_both_components(revenue: str, factories: int, total: str) -> None:
    quote = pricing.quote_partner(
        BOOKS, year=2024, apparel_revenue_usd=Decimal(revenue), factory_count=factories
    )
    assert quote.total == Decimal(total)
    assert sum(line.amount for line in domain.partnership_lines(quote)) == quote.total


def test_participant_lines_add_up_to_the_total() -> None:
    quote = pricing.quote_participant(BOOKS, year=2024, report_cycles=61)
    (line,) = domain.credits_lines(quote)
    assert (line.quantity, line.unit_price, line.amount) == (61, Decimal(1210), Decimal(73810))
    assert line.amount == quote.total


@pytest.mark.parametrize(
    ("revenue", "factories", "message"),
    [
        ("0", 0, "at least 1"),  # the footprint table starts at 1
        ("0", -1, "must not be negative"),
        ("-0.01", 1, "must not be negative"),
    ],
)
def test_partner_quote_refuses(revenue: str, factories: int, message: str) -> None:
    with pytest.raises(Unprocessable, match=message):
        pricing.quote_partner(
            BOOKS, year=2024, apparel_revenue_usd=Decimal(revenue), factory_count=factories
        )


@pytest.mark.parametrize("report_cycles", [0, -1])
def test_participant_quote_refuses_nothing_or_less(report_cycles: int) -> None:
    with pytest.raises(Unprocessable, match="at least 1"):
        pricing.quote_participant(BOOKS, year=2024, report_cycles=report_cycles)
