"""Money in and out of the API: a string with exactly two decimals plus `currency` going
out; coming in, such a string or a JSON number with at most two decimals, never rounded."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from services.billing.domain.pricing import CENT

__all__ = ["Amount", "Currency", "Money", "Revenue"]

AMOUNT_EXAMPLE = "1650.00"


def _amount_pattern(digits: int) -> str:
    return rf"^\d{{1,{digits}}}(\.\d{{1,2}})?$"


def _parse_amount(value: Any, *, digits: int) -> Decimal:
    """A non-negative amount, at most `digits` digits before the point and two after it."""
    if isinstance(value, float) and math.isfinite(value):
        value = repr(value)  # a JSON number: its shortest exact decimal spelling
    elif isinstance(value, str) and not re.fullmatch(_amount_pattern(digits), value):
        value = None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be a decimal amount such as {AMOUNT_EXAMPLE!r}")
    amount = Decimal(value)
    maximum = Decimal(10) ** digits - CENT
    if not 0 <= amount <= maximum:  # first: quantizing a huge number raises
        raise ValueError(f"must be between 0 and {maximum}")
    if amount.quantize(CENT) != amount:
        raise ValueError("must have at most two decimal places (cents); it is never rounded")
    return amount.quantize(CENT)


def _amount_schema(digits: int) -> dict[str, Any]:
    maximum = float(Decimal(10) ** digits - CENT)
    return {
        "anyOf": [
            {"type": "string", "pattern": _amount_pattern(digits)},
            {"type": "number", "minimum": 0, "maximum": maximum},
        ],
        "examples": [AMOUNT_EXAMPLE],
    }


# Revenue reaches 16 digits before the point; invoice amounts fit NUMERIC(12,2).
Revenue = Annotated[
    Decimal,
    BeforeValidator(partial(_parse_amount, digits=16)),
    WithJsonSchema(_amount_schema(16)),
]
Amount = Annotated[
    Decimal,
    BeforeValidator(partial(_parse_amount, digits=10)),
    WithJsonSchema(_amount_schema(10)),
]


def _two_places(amount: Decimal) -> str:
    return f"{amount:.2f}"


Money = Annotated[
    Decimal,
    PlainSerializer(_two_places, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["13200.00"]}),
]
Currency = Literal["USD"]
