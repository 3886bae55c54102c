"""Reading an uploaded factory list (JSON, CSV, or a multipart file holding either).

What makes the whole upload unreadable is a 422 (not JSON, no header row, no `country`
column, wrong JSON types, more than 50,000 rows). Everything about one row (an unknown
country, negative workers, a broken CSV line, a value that is not yes/no) is reported on
that row, and the other rows are scoped as usual.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError

from services.eligibility.domain.ruleset import PRODUCT_CODES
from services.eligibility.domain.scoping import FieldError, InvalidRow, RowError
from services.eligibility.schemas import MAX_LIST_ROWS, FactoryListUpload, FactoryQuery
from shared.errors import Unprocessable

__all__ = ["ParsedList", "parse_csv", "parse_json", "parse_json_bytes", "rows_from_dicts"]

_QUERIES = TypeAdapter(list[FactoryQuery])
_QUERY_FIELDS = frozenset(FactoryQuery.model_fields)
_BOOLEAN_FIELDS = (
    "in_export_processing_zone",
    "has_export_license",
    "nominated_by_partner",
    "is_subcontractor",
    "in_industrial_park",
    "wants_advisory",
)
_TRUE = frozenset({"true", "yes", "y", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "f"})
_HEADER_ALIASES = {
    "factory_name": "name",
    "factory": "name",
    "reference": "client_ref",
    "ref": "client_ref",
    "your_reference": "client_ref",
    "workers": "worker_count",
    "number_of_workers": "worker_count",
    "female_share": "female_worker_share",
    "female_workers_share": "female_worker_share",
    "os_hub_id": "os_id",
    "open_supply_id": "os_id",
    "bw_factory_id": "factory_id",
    "export_license": "has_export_license",
    "export_licence": "has_export_license",
    "has_export_licence": "has_export_license",
    "nominated": "nominated_by_partner",
    "province": "region",
    "district": "region",
    "country_code": "country",
}
_WHOLE_NUMBER = re.compile(r"^\d{1,3}(?:[,  _]\d{3})+$|^-?\d+$")


@dataclass
class ParsedList:
    rows: list[FactoryQuery | InvalidRow]
    warnings: list[str] = field(default_factory=list)

    @property
    def countries(self) -> list[str]:
        return sorted({r.country for r in self.rows if isinstance(r, FactoryQuery)})


def _row_error(position: int, raw: dict[str, Any], error: ValidationError | str) -> InvalidRow:
    if isinstance(error, str):
        problem = RowError(error)
    else:
        details = [
            FieldError(".".join(str(p) for p in e["loc"]) or "row", str(e["msg"]))
            for e in error.errors(include_url=False)
        ]
        problem = RowError("; ".join(f"{d.field}: {d.message}" for d in details), details)
    reference, country = raw.get("client_ref"), raw.get("country")
    return InvalidRow(
        row=position,
        error=problem,
        client_ref=_printable(reference, 300),
        country=_printable(country, 10),
    )


def _printable(value: Any, limit: int) -> str | None:
    """A raw value echoed back on a bad row: text only, without control characters."""
    if not isinstance(value, str):
        return None
    return "".join(c for c in value if c.isprintable())[:limit] or None


def rows_from_dicts(
    raw_rows: list[dict[str, Any]], *, errors: dict[int, str] | None = None
) -> list[FactoryQuery | InvalidRow]:
    """Validate each row; rows already known to be bad (`errors` by index) stay bad. One
    pass over the whole list when every row is valid (the usual case), row by row else."""
    errors = errors or {}
    if not errors:
        try:
            return list(_QUERIES.validate_python(raw_rows))
        except ValidationError:
            pass  # find the bad rows one by one
    rows: list[FactoryQuery | InvalidRow] = []
    for i, raw in enumerate(raw_rows):
        if i in errors:
            rows.append(_row_error(i + 1, raw, errors[i]))
            continue
        try:
            rows.append(FactoryQuery.model_validate(raw))
        except ValidationError as exc:
            rows.append(_row_error(i + 1, raw, exc))
    return rows


def _too_many(count: int) -> Unprocessable:
    return Unprocessable(
        f"The list has {count} rows; at most {MAX_LIST_ROWS} are accepted in one upload."
    )


def parse_json(upload: FactoryListUpload) -> ParsedList:
    raw_rows = [
        {k: v for k, v in row.model_dump(exclude_unset=True).items() if k in _QUERY_FIELDS}
        for row in upload.factories
    ]
    extra = sorted(
        {_printable(k, 60) or "?" for row in upload.factories for k in (row.model_extra or {})}
    )
    warnings = [f"Ignored unknown fields: {', '.join(extra)}."] if extra else []
    return ParsedList(rows_from_dicts(raw_rows), warnings)


# ---- CSV ----------------------------------------------------------------------------


def _decode(content: bytes) -> tuple[str, list[str]]:
    try:
        return content.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("cp1252")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    return text, ["The file is not UTF-8; it was read as Windows-1252."]


def _header_name(raw: str) -> str:
    name = re.sub(r"[^0-9a-z]+", "_", raw.strip().lower()).strip("_")
    return _HEADER_ALIASES.get(name, name)


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _as_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (use true/false, yes/no or 1/0)")


def _as_int(value: str) -> int:
    if not _WHOLE_NUMBER.match(value):
        raise ValueError(f"{value!r} is not a whole number")
    return int(re.sub(r"[,  _]", "", value))


def _as_share(value: str) -> float:
    percent = value.endswith("%")
    try:
        number = float(value.rstrip("%").strip())
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a number (a share 0..1, or a percentage)") from exc
    return number / 100 if percent else number


def _as_products(value: str) -> list[str]:
    products = []
    for part in re.split(r"[;|,/]", value):
        code = re.sub(r"[^0-9a-z]+", "_", part.strip().lower()).strip("_")
        if not code:
            continue
        if code not in PRODUCT_CODES and f"{code}s" in PRODUCT_CODES:
            code = f"{code}s"  # 'garment' -> 'garments'
        products.append(code)
    return products


def _as_codes(value: str) -> list[str]:
    return [part.strip().upper() for part in re.split(r"[;|,/ ]", value) if part.strip()]


def _as_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date as YYYY-MM-DD") from exc
    return value


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(_BOOLEAN_FIELDS, _as_bool),
    "worker_count": _as_int,
    "female_worker_share": _as_share,
    "products": _as_products,
    "export_markets": _as_codes,
    "operating_since": _as_date,
}


def _cells(header: list[str], record: list[str]) -> tuple[dict[str, Any], str | None]:
    """A CSV record as typed values, or the first reason it cannot be read."""
    raw: dict[str, Any] = {}
    problem = None
    for name, cell in zip(header, record, strict=False):
        value = cell.strip()
        if name not in _QUERY_FIELDS or name in raw or not value:
            continue
        convert = _CONVERTERS.get(name)
        if convert is None:
            raw[name] = value
            continue
        try:
            raw[name] = convert(value)
        except ValueError as exc:
            raw[name] = value
            problem = problem or f"{name}: {exc}"
    return raw, problem


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(line number, fields or None, error) per record; a broken line does not stop it."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"line {reader.line_num} is not valid CSV: {exc}"
            continue
        yield reader.line_num, record, None


def parse_csv(content: bytes) -> ParsedList:
    text, warnings = _decode(content)
    if "\x00" in text:
        raise Unprocessable("The file contains NUL bytes: it is not a CSV text file.")
    records = _records(text, _delimiter(text))
    header_record = next(
        (r for r in records if r[1] is not None and any(c.strip() for c in r[1])), None
    )
    if header_record is None or header_record[1] is None:
        raise Unprocessable("The CSV file is empty: it needs a header row and one row per factory.")
    header = [_header_name(h) for h in header_record[1]]
    if "country" not in header:
        raise Unprocessable(
            "The CSV header row must name a 'country' column (ISO codes such as BD); "
            f"found: {', '.join(h for h in header if h) or 'no column names'}."
        )
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise Unprocessable(f"The CSV header names a column twice: {', '.join(duplicated)}.")
    unknown = [_printable(h, 60) or "?" for h in header if h and h not in _QUERY_FIELDS]
    if unknown:
        warnings.append(f"Ignored unknown columns: {', '.join(unknown)}.")

    raw_rows: list[dict[str, Any]] = []
    errors: dict[int, str] = {}
    for line, record, broken in records:
        if record is not None and not any(cell.strip() for cell in record):
            continue  # blank line
        if len(raw_rows) >= MAX_LIST_ROWS:
            raise _too_many(len(raw_rows) + 1)
        if record is None:
            raw_rows.append({})
            errors[len(raw_rows) - 1] = broken or f"line {line} could not be read"
            continue
        raw, problem = _cells(header, record)
        if len(record) > len(header):
            problem = f"line {line} has {len(record)} values but the header has {len(header)}"
        raw_rows.append(raw)
        if problem:
            errors[len(raw_rows) - 1] = problem
    if not raw_rows:
        raise Unprocessable("The CSV file has a header row but no factories.")
    return ParsedList(rows_from_dicts(raw_rows, errors=errors), warnings)


def parse_json_bytes(content: bytes) -> FactoryListUpload:
    """A JSON list upload ({factories: [...]}) or a bare JSON array of rows."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(f"The body is not valid JSON: {exc}.") from exc
    if isinstance(data, list):
        data = {"factories": data}
    rows = data.get("factories") if isinstance(data, dict) else None
    if isinstance(rows, list) and len(rows) > MAX_LIST_ROWS:
        raise _too_many(len(rows))
    return FactoryListUpload.model_validate(data)
