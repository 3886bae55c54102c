"""Reading uploaded lists: CSV dialects and values, and per-row errors that never fail the
list."""

from __future__ import annotations

import pytest

from services.eligibility.domain.scoping import InvalidRow
from services.eligibility.schemas import FactoryQuery
from services.eligibility.schemas.uploads import parse_csv, parse_json, parse_json_bytes
from shared.errors import Unprocessable


def test_csv_values_are_read_by_type() -> None:
    parsed = parse_csv(
        b"Reference,Factory Name,Country,Region,Products,Workers,Female share,"
        b"Operating since,Export licence,Nominated,Export markets\n"
        b'S-1,"Golden Star, Ltd",bd,Gazipur,garments;Footwear,"1,200",80%,2020-01-31,yes,Y,US;de\n'
    )
    (row,) = parsed.rows
    assert isinstance(row, FactoryQuery)
    assert row.client_ref == "S-1"
    assert row.name == "Golden Star, Ltd"
    assert row.country == "BD"
    assert row.products == ["garments", "footwear"]
    assert row.worker_count == 1200
    assert row.female_worker_share == pytest.approx(0.8)
    assert row.has_export_license is True
    assert row.nominated_by_partner is True
    assert row.export_markets == ["US", "DE"]
    assert parsed.countries == ["BD"]


def test_semicolon_csv_with_bom_and_windows_1252() -> None:
    content = "\ufeffcountry;name\nBD;Caf\u00e9 Knit\n".encode("utf-8")
    row = parse_csv(content).rows[0]
    assert isinstance(row, FactoryQuery) and row.name == "Café Knit"
    parsed = parse_csv("country,name\nBD,Caf\u00e9 Knit\n".encode("cp1252"))
    assert isinstance(parsed.rows[0], FactoryQuery) and parsed.rows[0].name == "Café Knit"
    assert "Windows-1252" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("BD,-5", "worker_count"),
        ("ZZ,10", "country"),
        ("Bangladesh,10", "country"),
        ("BD,many", "worker_count"),
        ("BD,10,extra", "values but the header has 2"),
    ],
)
def test_bad_rows_are_reported_one_by_one(line: str, message: str) -> None:
    parsed = parse_csv(f"country,worker_count\nBD,300\n{line}\nKH,10\n".encode())
    good, bad, last = parsed.rows
    assert isinstance(good, FactoryQuery) and isinstance(last, FactoryQuery)
    assert isinstance(bad, InvalidRow)
    assert bad.row == 2
    assert message in bad.error.message


def test_a_broken_csv_line_does_not_stop_the_rest() -> None:
    parsed = parse_csv(b'country,name\nBD,"unclosed\nKH,Fine\n')
    assert len(parsed.rows) >= 1
    assert isinstance(parsed.rows[0], InvalidRow)


def test_unknown_columns_are_ignored_with_a_warning() -> None:
    parsed = parse_csv(b"country,colour\nBD,blue\n")
    assert parsed.warnings == ["Ignored unknown columns: colour."]


def test_blank_lines_are_skipped() -> None:
    assert len(parse_csv(b"country\n\nBD\n\n\nKH\n").rows) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name,region\nX,Y\n", "'country' column"),
        (b"country,country\nBD,BD\n", "twice"),
        (b"country\n", "no factories"),
        (b"country\x00\nBD\n", "NUL"),
    ],
)
def test_unreadable_files_are_a_422(content: bytes, message: str) -> None:
    with pytest.raises(Unprocessable, match=message):
        parse_csv(content)


def test_json_rows_are_checked_row_by_row() -> None:
    upload = parse_json_bytes(
        b'{"factories": [{"country": "BD", "worker_count": 300, "colour": "red"},'
        b' {"country": "BD", "worker_count": -1, "client_ref": "r2"},'
        b' {"country": "XX"}, {"products": ["garments"]}]}'
    )
    parsed = parse_json(upload)
    kinds = [type(r).__name__ for r in parsed.rows]
    assert kinds == ["FactoryQuery", "InvalidRow", "InvalidRow", "InvalidRow"]
    bad = parsed.rows[1]
    assert isinstance(bad, InvalidRow) and bad.client_ref == "r2"
    assert parsed.warnings == ["Ignored unknown fields: colour."]


def test_a_bare_json_array_is_a_list() -> None:
    assert len(parse_json_bytes(b'[{"country": "BD"}]').factories) == 1


def test_json_that_is_not_json_is_a_422() -> None:
    with pytest.raises(Unprocessable, match="not valid JSON"):
        parse_json_bytes(b"{nope")
