"""Calendar arithmetic the services share (no clock here: see shared/clock.py)."""

from __future__ import annotations

import calendar
from datetime import date

__all__ = ["add_months"]


def add_months(day: date, months: int) -> date:
    """The same calendar day `months` later (earlier when negative), clamped to the last day
    of a shorter month: 31 January + 1 month is 28 or 29 February.

    Raises OverflowError when the result falls outside years 1..9999 (`date`'s range)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    if not date.min.year <= year <= date.max.year:
        raise OverflowError(f"{day} + {months} months is outside the calendar")
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
