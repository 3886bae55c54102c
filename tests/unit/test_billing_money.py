"""Money in and out of the API: exact decimals, two places, never rounded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from services.billing.schemas import PartnerQuotePublic, PaymentCreate


@pytest.mark.parametrize(
    ("sent", "amount"),
    [
        ("1650.00", "1650.00"),
        ("1650", "1650.00"),
        ("1650.5", "1650.50"),
        (1650, "1650.00"),
        (1650.25, "1650.25"),
        (0.1, "0.10"),  # a JSON number keeps its decimal spelling (no 0.1000000000000000055…)
        ("9999999999.99", "9999999999.99"),
    ],
)
def test_amounts_accepted(sent: Any, amount: str) -> None:
    assert PaymentCreate.model_validate({"amount": sent}).amount == Decimal(amount)


@pytest.mark.parametrize(
    "sent",
    [
        "1650.001",  # never rounded
        1650.001,
        "-1",
        -1,
        "1e3",
        " 1650",
        "",
        True,
        None,
        float("nan"),
        float("inf"),
        "10000000000.00",  # beyond NUMERIC(12,2)
        2.8920020723822597e307,  # too big to quantize
        1e-7,
        "9" * 40,
        [1650],
    ],
)
def test_amounts_refused(sent: Any) -> None:
    with pytest.raises(ValidationError):
        PaymentCreate.model_validate({"amount": sent})


def test_money_goes_out_as_two_decimal_strings() -> None:
    quote = PartnerQuotePublic(
        year=2025,
        price_book_year=2024,
        apparel_revenue_usd=Decimal("2500000000"),
        factory_count=3,
        revenue_tier="B",
        revenue_charge=Decimal("23100"),
        footprint_tier=1,
        footprint_charge=Decimal("8360.0"),
        total=Decimal("31460.00"),
        currency="USD",
    )
    body = quote.model_dump(mode="json")
    assert body["apparel_revenue_usd"] == "2500000000.00"
    assert (body["revenue_charge"], body["footprint_charge"]) == ("23100.00", "8360.00")
    assert body["total"] == "31460.00"
