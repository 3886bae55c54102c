"""What the billing routers share: who may call what, and how idempotency is documented."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query

from shared.auth import Principal, require
from shared.errors import Forbidden, Unprocessable
from shared.types import Id

__all__ = [
    "IDEMPOTENCY_NOTE",
    "OrgQuery",
    "ParticipantOrAdvisor",
    "org_in_view",
    "with_idempotency_note",
]

ParticipantOrAdvisor = Annotated[Principal, require("participant", "advisor")]

Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Any]])

OrgQuery = Annotated[Id | None, Query(description="Advisors: the buyer organisation.")]

IDEMPOTENCY_NOTE = (
    "Send an `Idempotency-Key` header (a UUID is good): retrying with the same key and the same "
    "body returns the first reply again (with `Idempotent-Replayed: true`) and does nothing "
    "twice; the same key with a different body is **422**; a retry while the first request "
    "is still running is **409** with `Retry-After`. (SPEC §4 says 409 for a different body; "
    "the platform follows the IETF httpapi Idempotency-Key draft, which says 422.)"
)


def with_idempotency_note(endpoint: Endpoint) -> Endpoint:
    """Append IDEMPOTENCY_NOTE to the endpoint's docstring (its OpenAPI description)."""
    endpoint.__doc__ = inspect.cleandoc(endpoint.__doc__ or "") + "\n\n" + IDEMPOTENCY_NOTE
    return endpoint


def org_in_view(principal: Principal, org: str | None) -> str:
    """The organisation whose data is read: a buyer's own; an advisor names one with `org`."""
    if principal.role == "advisor":
        if org is None:
            raise Unprocessable("Advisors name the buyer organisation with `?org=`.")
        return org
    if org is not None and org != principal.org:
        raise Forbidden("You can read only your own organisation's billing data.")
    return principal.org
