"""Unlocking a report cycle (participants: one credit; partners: their footprint) and
listing the organisation's unlocks."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reports.api.deps import Buyer, UnlockingBuyer, existing, problems
from services.reports.clients import BillingDep
from services.reports.jobs import unlocking
from services.reports.schemas import UnlockCreate, UnlockPublic, shapes
from services.reports.store import access as store_access
from services.reports.store.settled import SettledDep
from shared.db import SessionDep
from shared.idempotency import IdempotencyKey, StoredReply, idempotent
from shared.pagination import Page, PageDep, UpdatedSince
from shared.types import Id

router = APIRouter(tags=["unlocks"])


@router.post(
    "/unlocks",
    status_code=201,
    response_model=UnlockPublic,
    responses=existing(UnlockPublic, "Already unlocked: the same unlock, free.")
    | problems(402, 409),
)
async def create_unlock(
    body: UnlockCreate,
    caller: UnlockingBuyer,
    request: Request,
    billing: BillingDep,
    settled: SettledDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Unlock a report cycle: participants spend one credit (402 when none are left),
    partners use their footprint (403 when full); both need the factory's approved TPA.
    Unlocking an unlocked cycle is free and returns the same unlock."""
    # Every step of the saga is one statement committed on its own (no BEGIN/COMMIT round
    # trips): its effect stands alone. The activation commits with its event and reply: one
    # statement on PostgreSQL, a transaction elsewhere (services/reports/jobs/unlocking.py).
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.autocommit
    transactional: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    target = await unlocking.look_up(
        sessionmaker, org=caller.org, factory_id=body.factory_id, cycle=body.cycle
    )

    # The reply is stored by the activation (one statement with it on PostgreSQL): one
    # round trip fewer, and it commits with the unlock it answers for.
    reply = StoredReply()

    async def run() -> UnlockPublic | None:
        result = await unlocking.unlock_cycle(
            sessionmaker=sessionmaker,
            transactional=transactional,
            billing=billing,
            caller=caller,
            target=target,
            factory_id=body.factory_id,
            lease=timedelta(seconds=request.app.state.settings.unlock_lease_s),
            reply=reply,
        )
        unlock = result.unlock
        settled.remember_unlock(
            report_cycle_id=unlock.report_cycle_id, buyer_org=unlock.buyer_org, status=unlock.status
        )
        # An activation stored its reply already (`idempotent` answers with it): shape once.
        return None if reply.stored else shapes.unlock(unlock)

    async with sessionmaker() as session:
        return await idempotent(
            request=request,
            session=session,
            scope=f"unlocks:{caller.org}",
            key=idempotency_key,
            payload=body.model_dump(),
            run=run,
            status_code=200 if target.active_unlock is not None else 201,
            stored=reply,
        )


@router.get("/unlocks")
async def list_unlocks(
    caller: Buyer,
    session: SessionDep,
    page: PageDep,
    updated_since: UpdatedSince,
    factory_id: Annotated[Id | None, Query(description="Only this factory.")] = None,
) -> Page[UnlockPublic]:
    """The report cycles your organisation unlocked."""
    rows, cursor = await store_access.list_unlocks(
        session=session,
        org=caller.org,
        page=page,
        factory_id=factory_id,
        updated_since=updated_since,
    )
    return Page[UnlockPublic](items=[shapes.unlock(r) for r in rows], next_cursor=cursor)
