"""The published price books, one JSON file per year (`2024.json` is Appendix 1 of the guide).

A new year's prices are a new file here, nothing else: the book in force for a year is
that year's or the latest earlier one (`PriceBooks.in_force`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from services.billing.domain.pricing import PriceBook, PriceBooks

__all__ = ["BOOKS_DIR", "load_price_books", "published_price_books"]

BOOKS_DIR = Path(__file__).resolve().parent


def load_price_books(directory: Path) -> PriceBooks:
    """Every `<year>.json` in `directory`, validated (a broken book fails start-up)."""
    books = []
    for path in sorted(directory.glob("*.json")):
        book = PriceBook.from_dict(json.loads(path.read_text(encoding="utf-8")))
        if str(book.year) != path.stem:
            raise ValueError(f"{path.name} holds the price book of {book.year}")
        books.append(book)
    return PriceBooks(books)


@lru_cache(maxsize=1)
def published_price_books() -> PriceBooks:
    return load_price_books(BOOKS_DIR)
