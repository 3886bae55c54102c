"""Price books as data: the 2024 book, carry-forward, and refusing broken books."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from services.billing.domain import pricing
from services.billing.rules import BOOKS_DIR, load_price_books, published_price_books

BOOK_2024: dict[str, Any] = json.loads((BOOKS_DIR / "2024.json").read_text())


def book(year: int, **changes: Any) -> pricing.PriceBook:
    data = copy.deepcopy(BOOK_2024)
    data["year"] = year
    data.update(changes)
    return pricing.PriceBook.from_dict(data)


def test_the_2024_book_is_published() -> None:
    books = published_price_books()
    assert books.years[0] == 2024
    assert books.in_force(2024).year == 2024


@pytest.mark.parametrize(("year", "in_force"), [(2024, 2024), (2025, 2024), (2099, 2024)])
def test_prices_carry_forward_until_a_new_book(year: int, in_force: int) -> None:
    assert published_price_books().in_force(year).year == in_force


@pytest.mark.parametrize(
    ("year", "in_force"), [(2024, 2024), (2025, 2024), (2026, 2026), (2027, 2026), (2040, 2026)]
)
def test_a_new_book_takes_over_from_its_year(year: int, in_force: int) -> None:
    books = pricing.PriceBooks([book(2026), book(2024)])
    assert books.in_force(year).year == in_force


@pytest.mark.parametrize("year", [2023, 2000])
def test_a_year_before_the_first_book_is_422(year: int) -> None:
    with pytest.raises(pricing.NoPriceBook, match="first published book is for 2024") as caught:
        published_price_books().in_force(year)
    assert caught.value.status == 422


def test_quotes_name_the_book_they_used() -> None:
    books = pricing.PriceBooks([book(2024), book(2026)])
    assert pricing.quote_participant(books, year=2025, report_cycles=1).price_book_year == 2024
    assert pricing.quote_participant(books, year=2027, report_cycles=1).price_book_year == 2026


def test_load_price_books_reads_one_file_per_year(tmp_path: Path) -> None:
    for year in (2024, 2025):
        data = dict(BOOK_2024, year=year)
        (tmp_path / f"{year}.json").write_text(json.dumps(data))
    assert load_price_books(tmp_path).years == [2024, 2025]


def test_a_file_must_hold_the_book_of_its_name(tmp_path: Path) -> None:
    (tmp_path / "2025.json").write_text(json.dumps(BOOK_2024))
    with pytest.raises(ValueError, match="holds the price book of 2024"):
        load_price_books(tmp_path)


def _revenue_tiers(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(BOOK_2024["partner"])
    data["revenue_tiers"][1].update(change)
    return data


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"partner": _revenue_tiers(min_usd="1000000001")}, "gap or overlap"),
        ({"partner": _revenue_tiers(min_inclusive=False)}, "gap or overlap"),  # 1 bn in none
        ({"currency": "EUR"}, "USD"),
        (
            {"participant": {"unit_prices": BOOK_2024["participant"]["unit_prices"][1:]}},
            "must start at 1",
        ),
        (
            {"participant": {"unit_prices": BOOK_2024["participant"]["unit_prices"][:-1]}},
            "no upper bound",
        ),
        (
            {
                "participant": {
                    "unit_prices": [
                        dict(BOOK_2024["participant"]["unit_prices"][0], unit_price="1650.001"),
                        *BOOK_2024["participant"]["unit_prices"][1:],
                    ]
                }
            },
            "two decimal places",
        ),
        ({"partner": {"revenue_tiers": []}}, "footprint_tiers"),
    ],
)
def test_a_broken_book_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(pricing.InvalidPriceBook, match=problem):
        book(2024, **changes)
