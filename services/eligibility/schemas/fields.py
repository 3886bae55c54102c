"""Field types for request bodies: what the OpenAPI document promises is what is accepted.

JSON booleans, integers and dates are taken as such (no `"yes"` for true, no `1` for a date),
text is stored safely (no control characters), and codes are checked against ISO 3166.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from services.eligibility.domain.countries import ISO_COUNTRIES, MARKET_CODES
from shared.types import CONTROL_CHARS, text

__all__ = [
    "Address",
    "CountryCode",
    "Email",
    "IsoDate",
    "LongText",
    "MarketCode",
    "Moment",
    "ShareOfOne",
    "StrictBool",
    "Text",
    "Text64",
    "Text120",
    "Text500",
    "WorkerCount",
]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


def _rfc3339(value: Any) -> Any:
    """A timestamp as RFC 3339 text with its offset (pydantic alone would also take a
    number of seconds, or a time without a zone)."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-11-29T08:00:00Z")
    return value


def _country(value: str) -> str:
    code = value.upper()
    if code not in ISO_COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _market(value: str) -> str:
    code = value.upper()
    if code not in MARKET_CODES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code or EU")
    return code


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
Moment = Annotated[datetime, BeforeValidator(_rfc3339)]
CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_country),
    Field(description="ISO 3166-1 alpha-2 country code.", examples=["BD"]),
]
MarketCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_market),
    Field(description="ISO 3166-1 alpha-2 country code, or EU.", examples=["US"]),
]
StrictBool = Annotated[bool, Field(strict=True)]
WorkerCount = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
ShareOfOne = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]

# Non-blank text, stripped, without control characters (shared/types.py); the number is
# the most characters accepted.
Text = Annotated[str, text(300)]
Text64 = Annotated[str, text(64)]
Text120 = Annotated[str, text(120)]
Text500 = Annotated[str, text(500)]
LongText = Annotated[str, text(4000, multiline=True)]
Address = Annotated[str, text(500, multiline=True)]  # as printed: it may span lines
Email = Annotated[
    str,
    text(
        254,
        shape=rf"^[^@\s{CONTROL_CHARS}]+@[^@\s{CONTROL_CHARS}]+\.[^@\s{CONTROL_CHARS}]+$",
    ),
]
