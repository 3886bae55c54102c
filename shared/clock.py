"""The platform's clock: every timestamp is timezone-aware UTC and every "today" is UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = ["now", "today"]


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC (the default evaluation date of the rules)."""
    return datetime.now(UTC).date()
