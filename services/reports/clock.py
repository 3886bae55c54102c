"""The service's clock, in one place so every timestamp is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["now"]


def now() -> datetime:
    return datetime.now(UTC)
