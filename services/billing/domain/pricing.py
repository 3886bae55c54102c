"""Price books and quotes (SPEC §4, Appendix 1 of the guide): pure, no I/O.

A price book is data (`rules/<year>.json`, parsed and checked here: tiers without gaps
or overlaps); the book in force for a year is that year's or the latest earlier one.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import Unprocessable

__all__ = [
    "CENT",
    "CURRENCY",
    "FootprintTier",
    "InvalidPriceBook",
    "NoPriceBook",
    "ParticipantQuote",
    "PartnerQuote",
    "PriceBook",
    "PriceBooks",
    "RevenueTier",
    "VolumePrice",
    "quote_participant",
    "quote_partner",
]

CENT = Decimal("0.01")
CURRENCY = "USD"


# --- price books ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RevenueTier:
    """Component 1 of the partner fee: consolidated apparel revenue in USD."""

    tier: str
    label: str
    min_usd: Decimal
    min_inclusive: bool
    max_usd: Decimal | None  # None: no upper bound
    max_inclusive: bool
    charge: Decimal

    def contains(self, revenue: Decimal) -> bool:
        above_min = revenue >= self.min_usd if self.min_inclusive else revenue > self.min_usd
        if self.max_usd is None:
            return above_min
        below_max = revenue <= self.max_usd if self.max_inclusive else revenue < self.max_usd
        return above_min and below_max


@dataclass(frozen=True, slots=True)
class FootprintTier:
    """Component 2 of the partner fee: apparel factories in Better Work countries."""

    tier: int
    min_factories: int
    max_factories: int | None
    charge: Decimal

    def contains(self, count: int) -> bool:
        return count >= self.min_factories and (
            self.max_factories is None or count <= self.max_factories
        )


@dataclass(frozen=True, slots=True)
class VolumePrice:
    """A participant's price per report cycle, by how many are bought in one purchase."""

    label: str
    min_report_cycles: int
    max_report_cycles: int | None
    unit_price: Decimal

    def contains(self, count: int) -> bool:
        return count >= self.min_report_cycles and (
            self.max_report_cycles is None or count <= self.max_report_cycles
        )


class InvalidPriceBook(ValueError):
    """A price book file that does not describe a gap-free, overlap-free set of tiers."""


def _decimal(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidPriceBook(f"{where}: {value!r} is not a decimal amount") from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidPriceBook(f"{where}: {value!r} must be a non-negative amount")
    return amount


def _price(value: Any, where: str) -> Decimal:
    amount = _decimal(value, where)
    if amount.quantize(CENT) != amount:
        raise InvalidPriceBook(f"{where}: {value!r} has more than two decimal places")
    return amount.quantize(CENT)


def _check_revenue_tiers(tiers: Sequence[RevenueTier], year: int) -> None:
    if not tiers or tiers[0].min_usd != 0 or not tiers[0].min_inclusive:
        raise InvalidPriceBook(f"{year}: the first revenue tier must start at 0 inclusive")
    for low, high in itertools.pairwise(tiers):
        # Adjacent tiers share a boundary that exactly one of them includes.
        if low.max_usd != high.min_usd or low.max_inclusive == high.min_inclusive:
            raise InvalidPriceBook(
                f"{year}: revenue tiers {low.tier} and {high.tier} leave a gap or overlap"
            )
    if tiers[-1].max_usd is not None:
        raise InvalidPriceBook(f"{year}: the last revenue tier must have no upper bound")


def _check_count_ranges(ranges: Sequence[tuple[int, int | None]], what: str, year: int) -> None:
    if not ranges or ranges[0][0] != 1:
        raise InvalidPriceBook(f"{year}: the {what} must start at 1")
    for (_, upper), (lower, _) in itertools.pairwise(ranges):
        if upper is None or lower != upper + 1:
            raise InvalidPriceBook(f"{year}: the {what} leave a gap or overlap at {lower}")
    if ranges[-1][1] is not None:
        raise InvalidPriceBook(f"{year}: the last of the {what} must have no upper bound")


@dataclass(frozen=True, slots=True)
class PriceBook:
    year: int
    currency: str
    source: str
    revenue_tiers: tuple[RevenueTier, ...]
    footprint_tiers: tuple[FootprintTier, ...]
    volume_prices: tuple[VolumePrice, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceBook:
        """Parse and validate one price book (the JSON of `rules/<year>.json`)."""
        try:
            year = int(data["year"])
            revenue = tuple(
                RevenueTier(
                    tier=str(t["tier"]),
                    label=str(t["label"]),
                    min_usd=_decimal(t["min_usd"], f"{year} revenue {t['tier']}"),
                    min_inclusive=bool(t["min_inclusive"]),
                    max_usd=None
                    if t["max_usd"] is None
                    else _decimal(t["max_usd"], f"{year} revenue {t['tier']}"),
                    max_inclusive=bool(t["max_inclusive"]),
                    charge=_price(t["charge"], f"{year} revenue {t['tier']}"),
                )
                for t in data["partner"]["revenue_tiers"]
            )
            footprint = tuple(
                FootprintTier(
                    tier=int(t["tier"]),
                    min_factories=int(t["min_factories"]),
                    max_factories=None if t["max_factories"] is None else int(t["max_factories"]),
                    charge=_price(t["charge"], f"{year} footprint {t['tier']}"),
                )
                for t in data["partner"]["footprint_tiers"]
            )
            volume = tuple(
                VolumePrice(
                    label=str(p["label"]),
                    min_report_cycles=int(p["min_report_cycles"]),
                    max_report_cycles=None
                    if p["max_report_cycles"] is None
                    else int(p["max_report_cycles"]),
                    unit_price=_price(p["unit_price"], f"{year} participant {p['label']}"),
                )
                for p in data["participant"]["unit_prices"]
            )
            book = cls(
                year=year,
                currency=str(data["currency"]),
                source=str(data.get("source", "")),
                revenue_tiers=revenue,
                footprint_tiers=footprint,
                volume_prices=volume,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidPriceBook):
                raise
            raise InvalidPriceBook(f"price book {data.get('year')!r}: {exc!r}") from exc
        if book.currency != CURRENCY:
            raise InvalidPriceBook(f"{year}: prices must be in {CURRENCY}")
        _check_revenue_tiers(book.revenue_tiers, year)
        _check_count_ranges(
            [(t.min_factories, t.max_factories) for t in book.footprint_tiers],
            "footprint tiers",
            year,
        )
        _check_count_ranges(
            [(p.min_report_cycles, p.max_report_cycles) for p in book.volume_prices],
            "participant volume tiers",
            year,
        )
        return book

    def revenue_tier(self, revenue: Decimal) -> RevenueTier:
        if revenue < 0:
            raise Unprocessable(f"apparel_revenue_usd must not be negative (got {revenue}).")
        return next(t for t in self.revenue_tiers if t.contains(revenue))

    def footprint_tier(self, factory_count: int) -> FootprintTier:
        if factory_count < 1:
            raise Unprocessable(
                f"factory_count must be at least 1 (got {factory_count}): the partner fee's "
                "footprint table starts at 1 factory in Better Work countries."
            )
        return next(t for t in self.footprint_tiers if t.contains(factory_count))

    def volume_price(self, report_cycles: int) -> VolumePrice:
        if report_cycles < 1:
            raise Unprocessable(
                f"report_cycles must be at least 1 (got {report_cycles}): "
                "one credit buys one factory report cycle."
            )
        return next(p for p in self.volume_prices if p.contains(report_cycles))


class NoPriceBook(Unprocessable):
    pass


class PriceBooks:
    """The published books by year; prices carry forward until a new book is published."""

    def __init__(self, books: Iterable[PriceBook]) -> None:
        by_year = {book.year: book for book in books}
        if not by_year:
            raise InvalidPriceBook("at least one price book must be published")
        self._years = sorted(by_year)
        self._books = by_year

    @property
    def years(self) -> list[int]:
        return list(self._years)

    def in_force(self, year: int) -> PriceBook:
        """The book of `year`, or else the latest earlier one."""
        index = bisect.bisect_right(self._years, year)
        if index == 0:
            raise NoPriceBook(
                f"There is no price book for {year}: the first published book is for "
                f"{self._years[0]}, and prices are never applied to earlier years."
            )
        return self._books[self._years[index - 1]]


# --- quotes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerQuote:
    year: int
    price_book_year: int
    apparel_revenue_usd: Decimal
    factory_count: int
    revenue_tier: RevenueTier
    footprint_tier: FootprintTier

    @property
    def total(self) -> Decimal:
        return self.revenue_tier.charge + self.footprint_tier.charge


@dataclass(frozen=True, slots=True)
class ParticipantQuote:
    year: int
    price_book_year: int
    report_cycles: int
    volume_price: VolumePrice

    @property
    def unit_price(self) -> Decimal:
        return self.volume_price.unit_price

    @property
    def total(self) -> Decimal:
        return self.volume_price.unit_price * self.report_cycles


def quote_partner(
    books: PriceBooks, *, year: int, apparel_revenue_usd: Decimal, factory_count: int
) -> PartnerQuote:
    if factory_count < 0:
        raise Unprocessable(f"factory_count must not be negative (got {factory_count}).")
    book = books.in_force(year)
    return PartnerQuote(
        year=year,
        price_book_year=book.year,
        apparel_revenue_usd=apparel_revenue_usd,
        factory_count=factory_count,
        revenue_tier=book.revenue_tier(apparel_revenue_usd),
        footprint_tier=book.footprint_tier(factory_count),
    )


def quote_participant(books: PriceBooks, *, year: int, report_cycles: int) -> ParticipantQuote:
    book = books.in_force(year)
    return ParticipantQuote(
        year=year,
        price_book_year=book.year,
        report_cycles=report_cycles,
        volume_price=book.volume_price(report_cycles),
    )
