"""Calls from the reports service (services/INTERNAL_API.md), with service tokens only: the
gateway never routes `/internal`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.billing import ledger
from services.billing.routes.common import with_idempotency_note
from services.billing.schemas import (
    ClaimPublic,
    ClaimRequest,
    EntryPublic,
    FootprintUsage,
    RefundRequest,
    ReleaseRequest,
    SpendRequest,
)
from shared.app import problem_responses
from shared.auth import ServiceCaller
from shared.db import SessionDep
from shared.idempotency import IdempotencyKey, idempotent

router = APIRouter(prefix="/internal", tags=["internal"])


def _scope(org: str) -> str:
    # Apart from the keys the buyer itself sends to the public endpoints.
    return f"internal:{org}"


@router.post(
    "/credits/spend",
    status_code=201,
    response_model=EntryPublic,
    responses=problem_responses(402, 409),
)
@with_idempotency_note
async def spend_credit(
    request: Request,
    session: SessionDep,
    caller: ServiceCaller,
    body: SpendRequest,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Spend one of a buyer's credits on an unlock.

    The key is the unlock id: a retried unlock never spends twice (a spend whose `reference`
    was already spent also returns the first entry). A zero balance is 402 and changes
    nothing.
    """

    async def spend() -> EntryPublic:
        entry = await ledger.spend_credit(
            session, org=body.org, reference=body.reference, reason=body.reason, by=caller.user
        )
        return EntryPublic.of(entry)

    return await idempotent(
        request=request,
        session=session,
        scope=_scope(body.org),
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        run=spend,
    )


@router.post(
    "/credits/refund",
    status_code=201,
    response_model=EntryPublic,
    responses=problem_responses(409),
)
@with_idempotency_note
async def refund_credit(
    request: Request,
    session: SessionDep,
    caller: ServiceCaller,
    body: RefundRequest,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Refund the credit of a spend (saga compensation of a failed unlock).

    Gives back the credit spent with `reference` (404 when nothing was spent with it); a
    second refund of one spend returns the first refund, never a second credit.
    """

    async def refund() -> EntryPublic:
        entry = await ledger.refund_credit(
            session, org=body.org, reference=body.reference, by=caller.user
        )
        return EntryPublic.of(entry)

    return await idempotent(
        request=request,
        session=session,
        scope=_scope(body.org),
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        run=refund,
    )


@router.post("/footprint/claims")
async def claim_footprint(
    session: SessionDep, _caller: ServiceCaller, body: ClaimRequest
) -> ClaimPublic:
    """Count a factory in a partner's footprint for a year.

    Claiming a factory already counted that year is free (`new_claim: false`); a full
    footprint (or none: no paid partnership invoice for the year) is 403 with the numbers.
    """
    footprint, used, new_claim = await ledger.claim_footprint(
        session, org=body.org, year=body.year, factory_id=body.factory_id, reference=body.reference
    )
    return ClaimPublic(
        org=body.org,
        year=body.year,
        footprint=footprint,
        used=used,
        factory_id=body.factory_id,
        new_claim=new_claim,
    )


@router.post("/footprint/claims/release")
async def release_footprint_claim(
    session: SessionDep, _caller: ServiceCaller, body: ReleaseRequest
) -> FootprintUsage:
    """Undo the claim made with `reference` (an unknown claim is a no-op)."""
    footprint, used = await ledger.release_footprint_claim(
        session, org=body.org, year=body.year, factory_id=body.factory_id, reference=body.reference
    )
    return FootprintUsage(org=body.org, year=body.year, footprint=footprint, used=used)
