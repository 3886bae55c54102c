"""The cycles service's routes, one module per topic."""

from __future__ import annotations

from typing import Any

from shared.app import problem_responses

__all__ = ["NOT_MODIFIED", "Responses", "conflict"]

Responses = dict[int | str, dict[str, Any]]
NOT_MODIFIED: Responses = {304: {"description": "Unchanged since the ETag in If-None-Match."}}


def conflict(description: str) -> Responses:
    """A route's 409, documented as problem+json, saying what the conflict can be."""
    responses = problem_responses(409)
    responses[409] = {**responses[409], "description": description}
    return responses
