"""shared/pdf.py without a server: the same sheet is the same bytes (and drawn once), a
changed fact is another PDF, long text wraps and runs over pages, the draw cache is bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from shared import pdf
from shared.pdf import Column, Section, Sheet, Table, render
from tests.pdf_tools import first_page, pdf_text


def sheet(name: str = "Công ty May Việt Tiến", rows: int = 3) -> Sheet:
    table = Table(
        [Column("Question", 3), Column("Amount", 1, right=True)],
        [(f"Question {n} " + "word " * (n % 30), f"USD {n:,}.00") for n in range(rows)],
    )
    return Sheet(
        title="A title",
        fields=[("Factory", name)],
        sections=[Section("Body", ("A paragraph.\nA second line.",), table)],
        footer=name,
        dated=datetime(2025, 5, 1, tzinfo=UTC),
    )


def test_the_same_sheet_is_the_same_bytes_drawn_once() -> None:
    first = render(sheet())
    assert render(sheet()) is first  # the second came from the cache
    assert render(sheet(name="Another factory")) != first


def test_the_date_is_the_sheets_own() -> None:
    content = render(sheet())
    assert b"D:20250501" in content  # CreationDate: the document's date, not the download's
    later = replace(sheet(), dated=datetime(2025, 6, 1, tzinfo=UTC))
    assert render(later) != content


def test_a_long_table_runs_over_pages_with_every_row() -> None:
    content = render(sheet(rows=300))
    text = " ".join(pdf_text(content).split())
    for n in range(300):
        assert f"USD {n:,}.00" in text
    assert text.count("Question Amount") >= 3  # the headings again on every page
    assert first_page(content).width > 300


def test_the_cache_is_bounded() -> None:
    for n in range(pdf.DRAWN.size + 5):
        render(sheet(name=f"Factory {n}"))
    assert len(pdf.DRAWN._items) == pdf.DRAWN.size
