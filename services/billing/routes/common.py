"""What the billing routers share: who may call what, documented problem replies, and the
route class that turns a one-line docstring into the OpenAPI summary."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from shared.app import ERROR_DESCRIPTIONS
from shared.auth import Principal, require
from shared.errors import PROBLEM_JSON, Forbidden, Unprocessable
from shared.idempotency import idempotent

__all__ = [
    "IDEMPOTENCY_NOTE",
    "Advisor",
    "BuyerOrAdvisor",
    "InvoiceId",
    "ParticipantOrAdvisor",
    "PartnerOrAdvisor",
    "PartnerOrParticipant",
    "SummaryRoute",
    "once",
    "org_in_view",
    "problems",
]

Advisor = Annotated[Principal, require("advisor")]
PartnerOrAdvisor = Annotated[Principal, require("partner", "advisor")]
ParticipantOrAdvisor = Annotated[Principal, require("participant", "advisor")]
PartnerOrParticipant = Annotated[Principal, require("partner", "participant")]
BuyerOrAdvisor = Annotated[Principal, require("partner", "participant", "advisor")]

InvoiceId = Annotated[
    str, Path(min_length=1, max_length=40, examples=["inv_01JD3ZQ8V5N1W2X3Y4Z5A6B7C8"])
]

IDEMPOTENCY_NOTE = (
    "Send an `Idempotency-Key` header (a UUID is good): retrying with the same key and the same "
    "body returns the first reply again (with `Idempotent-Replayed: true`) and does nothing "
    "twice; the same key with a different body is **422**; a retry while the first request "
    "is still running is **409** with `Retry-After`. (SPEC §4 says 409 for a different body; "
    "the platform follows the IETF httpapi Idempotency-Key draft, which says 422.)"
)

_EXTRA_DESCRIPTIONS = {402: "Payment required: no report credits left."}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for problem+json statuses the shared builder does not add."""
    return {
        code: {
            "description": _EXTRA_DESCRIPTIONS.get(code) or ERROR_DESCRIPTIONS[str(code)],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


class SummaryRoute(APIRoute):
    """The endpoint's docstring: first paragraph is the OpenAPI summary, the rest (if any)
    the description (FastAPI alone would make the whole docstring the description)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        summary, _, rest = (inspect.getdoc(endpoint) or "").partition("\n\n")
        if kwargs.get("summary") is None and summary:
            kwargs["summary"] = " ".join(summary.split())
        super().__init__(path, endpoint, **kwargs)
        if kwargs.get("description") is None:
            self.description = rest


def org_in_view(principal: Principal, org: str | None) -> str:
    """The organisation whose data is read: a buyer's own; an advisor names one with `org`."""
    if principal.role == "advisor":
        if org is None:
            raise Unprocessable("Advisors name the buyer organisation with `?org=`.")
        return org
    if org is not None and org != principal.org:
        raise Forbidden("You can read only your own organisation's billing data.")
    return principal.org


async def once(
    *,
    request: Request,
    session: AsyncSession,
    scope: str,
    key: str | None,
    payload: Any,
    run: Callable[[], Awaitable[Any]],
    status_code: int = 201,
) -> JSONResponse:
    """`shared.idempotency.idempotent`, with the request's connection handed back to the pool
    as soon as `run` fails: `idempotent` then releases the key on a second connection, and
    under load (many spends refused at once) requests each holding one connection while
    waiting for another would starve the pool."""

    async def run_or_roll_back() -> Any:
        try:
            return await run()
        except BaseException:
            await session.rollback()
            raise

    return await idempotent(
        request=request,
        session=session,
        scope=scope,
        key=key,
        payload=payload,
        run=run_or_roll_back,
        status_code=status_code,
    )
