"""The cycles service's routes, one module per topic."""

from __future__ import annotations

from typing import Any

__all__ = ["Responses", "documented"]

Responses = dict[int | str, dict[str, Any]]


def documented(**descriptions: str) -> Responses:
    """Extra statuses of a route for its OpenAPI entry: `documented(409="…")`. The
    problem+json content of 4xx/5xx is added by shared.app for every operation."""
    return {int(code.lstrip("_")): {"description": text} for code, text in descriptions.items()}
