"""A scoped factory list as CSV: one line per input row, in input order, for a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["CSV_COLUMNS", "csv_lines"]

CSV_COLUMNS = (
    "row",
    "client_ref",
    "country",
    "status",
    "participation",
    "assessment_available",
    "advisory_available",
    "priority",
    "missing_fields",
    "failed_rules",
    "notes",
    "match_status",
    "match_method",
    "factory_id",
    "os_id",
    "matched_name",
    "match_score",
    "enrolment_status",
    "candidates",
    "facts_from_registry",
    "error",
    "waitlisted_until",  # last: columns added later go at the end, for readers by position
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would make it a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _participation(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{service}: {level}" for service, level in value.items())
    return _cell(value)


def _row(result: dict[str, Any]) -> list[str]:
    match = result.get("match") or {}
    services = result.get("services") or {}
    error = result.get("error") or {}
    failed = [r["code"] for r in result.get("reasons", ()) if r.get("passed") is False]
    values: dict[str, Any] = {
        "row": result.get("row"),
        "client_ref": result.get("client_ref"),
        "country": result.get("country"),
        "status": result.get("status"),
        "participation": _participation(result.get("participation")),
        "assessment_available": (services.get("assessment") or {}).get("available"),
        "advisory_available": (services.get("advisory") or {}).get("available"),
        "priority": result.get("priority"),
        "missing_fields": "; ".join(result.get("missing_fields", ())),
        "failed_rules": "; ".join(failed),
        "notes": " ".join(n["message"] for n in result.get("notes", ())),
        "match_status": match.get("status"),
        "match_method": match.get("method"),
        "factory_id": match.get("factory_id"),
        "os_id": match.get("os_id"),
        "matched_name": match.get("name"),
        "match_score": match.get("score"),
        "enrolment_status": match.get("enrolment_status"),
        "candidates": "; ".join(c["factory_id"] for c in match.get("candidates", ())),
        "facts_from_registry": "; ".join(result.get("facts_from_registry", ())),
        "error": error.get("message"),
        "waitlisted_until": (result.get("waitlist") or {}).get("until"),
    }
    return [_cell(values[column]) for column in CSV_COLUMNS]


def csv_lines(rows: Iterable[bytes], *, batch: int = 500) -> Iterator[str]:
    """The header, then the rows (stored JSON), a batch of lines at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for count, line in enumerate(rows, start=1):
        writer.writerow(_row(json.loads(line)))
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
