"""A buyer's account: the credit balance with its ledger, and the partner footprint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.billing.api.deps import (
    OrgQuery,
    ParticipantOrAdvisor,
    org_in_view,
    with_idempotency_note,
)
from services.billing.schemas import (
    FIRST_YEAR,
    LAST_YEAR,
    AdjustmentCreate,
    CreditEntryPublic,
    CreditsPublic,
    FootprintPublic,
)
from services.billing.store import ledger
from shared.app import problem_responses
from shared.auth import Advisor, PartnerOrAdvisor
from shared.db import SessionDep
from shared.errors import Unprocessable
from shared.idempotency import IdempotencyKey, idempotent
from shared.pagination import PageDep

router = APIRouter()


@router.get("/credits", tags=["credits"])
async def get_credits(
    session: SessionDep, principal: ParticipantOrAdvisor, page: PageDep, org: OrgQuery = None
) -> CreditsPublic:
    """The caller's credit balance and ledger entries, newest first.

    One credit unlocks one factory report cycle. Entries (`purchase`, `spend`, `refund`,
    `adjustment`) carry a signed `delta`, the `reference` that caused them (invoice, unlock)
    and the balance after them; page through them with `limit` and `cursor`.
    """
    owner = org_in_view(principal, org)
    balance = await ledger.credit_balance(session=session, org=owner)
    entries, next_cursor = await ledger.list_credit_entries(session=session, org=owner, page=page)
    return CreditsPublic(
        org=owner,
        balance=balance,
        entries=[CreditEntryPublic.of(entry) for entry in entries],
        next_cursor=next_cursor,
    )


@router.post(
    "/credit-adjustments",
    tags=["credits"],
    status_code=201,
    response_model=CreditEntryPublic,
    responses=problem_responses(409),
)
@with_idempotency_note
async def create_credit_adjustment(
    request: Request,
    session: SessionDep,
    principal: Advisor,
    body: AdjustmentCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Correct a buyer's credit balance (advisors).

    Adds (`delta` > 0) or takes (`delta` < 0) credits with a reason, as a ledger entry of
    kind `adjustment`; a balance never goes below zero (409).
    """
    if body.delta == 0:
        raise Unprocessable("delta must not be 0: an adjustment adds or takes credits.")

    async def adjust() -> CreditEntryPublic:
        entry = await ledger.adjust_credits(
            session=session,
            org=body.org,
            delta=body.delta,
            reason=body.reason,
            reference=body.reference,
            by=principal.user,
        )
        return CreditEntryPublic.of(entry)

    return await idempotent(
        request=request,
        session=session,
        scope=principal.org,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        run=adjust,
    )


@router.get("/footprint", tags=["footprint"])
async def get_footprint(
    session: SessionDep,
    principal: PartnerOrAdvisor,
    year: Annotated[
        int | None,
        Query(ge=FIRST_YEAR, le=LAST_YEAR, description="Calendar year; default: this year."),
    ] = None,
    org: OrgQuery = None,
) -> FootprintPublic:
    """A partner's footprint for a year and how many distinct factories it has used.

    The footprint is the factory count of the partner's paid partnership invoice for that
    year (0 without one): during the year it may unlock report cycles of at most that many
    distinct factories.
    """
    owner = org_in_view(principal, org)
    year = year or datetime.now(UTC).year
    row = await ledger.footprint_of(session=session, org=owner, year=year)
    return FootprintPublic.of(org=owner, year=year, row=row)
