"""Calls from the reports service (services/INTERNAL_API.md), with service tokens only: the
gateway never routes `/internal`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.billing.schemas import (
    CancelledPublic,
    CancelReply,
    CancelRequest,
    ChargePublic,
    ChargeRequest,
    ChargeRow,
    ChargeState,
    DiscrepancyPublic,
    LedgerCheck,
)
from services.billing.store import charges
from shared.app import problem_responses
from shared.auth import Principal, ServiceCaller
from shared.db import SessionDep
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/internal", tags=["internal"])


@router.post("/charges", status_code=201, responses=problem_responses(402, 403, 409))
async def create_charge(
    request: Request, session: SessionDep, caller: ServiceCaller, body: ChargeRequest
) -> ChargePublic:
    """Pay for an unlock: one credit, or the factory's slot in the year's footprint.

    The `reference` names this payment and pays once: repeating the call replays the held
    charge (no second credit or slot); a reference that was cancelled or released is 409
    and charges nothing. 402: no credits left; 403: the footprint is full (or 0), with the
    numbers. A factory already counted in the year's footprint is free (`new_claim: false`).
    """
    if charges.one_statement(session, body.kind):
        # One statement that commits on its own: no BEGIN and COMMIT round trips.
        sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.autocommit
        async with sessionmaker() as own:
            result = await _charge(own, caller, body)
    else:
        result = await _charge(session, caller, body)
    row = result.charge
    return ChargePublic(
        org=row.org,
        reference=row.reference,
        kind=body.kind,
        factory_id=row.factory_id,
        year=row.year,
        state="held",
        balance=result.balance,
        footprint=result.footprint,
        used=result.used,
        new_claim=result.new_claim,
    )


async def _charge(
    session: AsyncSession, caller: Principal, body: ChargeRequest
) -> charges.ChargeResult:
    return await charges.charge(
        session=session,
        org=body.org,
        reference=body.reference,
        kind=body.kind,
        factory_id=body.factory_id,
        year=body.year,
        reason=body.reason,
        by=caller.user,
    )


@router.post("/charges/cancel")
async def cancel_charges(
    session: SessionDep, caller: ServiceCaller, body: CancelRequest
) -> CancelReply:
    """Give up payment attempts: a held charge is given back (`released`), a reference never
    charged is marked `cancelled` so that a late request with it charges nothing. Repeating
    the call changes nothing."""
    done = await charges.cancel(
        session=session,
        org=body.org,
        kind=body.kind,
        factory_id=body.factory_id,
        references=body.references,
        by=caller.user,
    )
    return CancelReply(
        org=body.org,
        cancelled=[
            CancelledPublic(reference=c.reference, state=c.state, given_back=c.given_back)
            for c in done
        ],
    )


@router.get("/charges")
async def list_charges(
    session: SessionDep,
    _caller: ServiceCaller,
    page: PageDep,
    state: Annotated[ChargeState | None, Query(description="Only charges in this state.")] = None,
) -> Page[ChargeRow]:
    """Every charge (by organisation, then reference), for the reconciliation audit."""
    rows, cursor = await charges.list_charges(session=session, page=page, state=state)
    return Page[ChargeRow](
        items=[ChargeRow.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=cursor,
    )


@router.get("/ledger/check")
async def check_ledger(session: SessionDep, _caller: ServiceCaller) -> LedgerCheck:
    """Billing's own invariants (balances against entries, credit charges against the
    ledger, footprints against their held charges); an empty list when all hold."""
    found = await charges.check(session=session)
    return LedgerCheck(
        checked_at=datetime.now(UTC),
        discrepancies=[
            DiscrepancyPublic(
                code=d.code, org=d.org, detail=d.detail, reference=d.reference, year=d.year
            )
            for d in found
        ],
    )
