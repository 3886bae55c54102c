"""Training participant-days: the cycle's allowance, bookings against it, and extra days
purchased when a booking would overdraw it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.cycles import store
from services.cycles.api.deps import AdvisorOrFactory, conflict, cycle_for
from services.cycles.clients import ReportsDep
from services.cycles.domain import TrainingBalance, check_training
from services.cycles.models import Cycle, TrainingBooking, TrainingPurchase
from services.cycles.schemas import (
    TrainingBalancePublic,
    TrainingBookingCreate,
    TrainingBookingPublic,
    TrainingBookingReply,
    TrainingPurchaseCreate,
    TrainingPurchasePublic,
    TrainingPurchaseReply,
    TrainingSummary,
)
from shared.clock import now
from shared.db import SessionDep
from shared.idempotency import IdempotencyKey, idempotent
from shared.ids import new_id
from shared.types import Id

router = APIRouter(tags=["training"])


async def _balance(session: SessionDep, cycle: Cycle) -> TrainingBalance:
    purchased, used = await store.training_totals(session=session, cycle_id=cycle.id)
    return TrainingBalance(
        allowance=cycle.training_participant_days, purchased=purchased, used=used
    )


def _balance_fields(cycle: Cycle, balance: TrainingBalance) -> dict[str, Any]:
    return TrainingBalancePublic(
        cycle_id=cycle.id,
        allowance=balance.allowance,
        purchased=balance.purchased,
        used=balance.used,
        remaining=balance.remaining,
    ).model_dump()


@router.post("/cycles/{cycle_id}/training", status_code=201)
async def book_training(
    cycle_id: Id,
    body: TrainingBookingCreate,
    principal: AdvisorOrFactory,
    session: SessionDep,
    reports: ReportsDep,
) -> TrainingBookingReply:
    """Book a course (participants x days) against the cycle's participant-days."""
    # The row lock serialises bookings of one cycle: two cannot both spend the last days.
    cycle, _ = await cycle_for(session, principal, cycle_id=cycle_id, reports=reports, lock=True)
    balance = await _balance(session, cycle)
    participant_days = check_training(balance, participants=body.participants, days=body.days)
    booking = TrainingBooking(
        id=new_id("trn"),
        cycle_id=cycle.id,
        course=body.course,
        participants=body.participants,
        days=body.days,
        participant_days=participant_days,
        booked_by=principal.user,
        created_at=now(),
    )
    session.add(booking)
    await session.flush()
    after = TrainingBalance(balance.allowance, balance.purchased, balance.used + participant_days)
    return TrainingBookingReply(
        **_balance_fields(cycle, after),
        booking=TrainingBookingPublic.model_validate(booking, from_attributes=True),
    )


@router.post(
    "/cycles/{cycle_id}/training/purchases",
    status_code=201,
    responses=conflict("A request with this Idempotency-Key is still being processed."),
)
async def purchase_training_days(
    cycle_id: Id,
    body: TrainingPurchaseCreate,
    principal: AdvisorOrFactory,
    session: SessionDep,
    reports: ReportsDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> TrainingPurchaseReply:
    """Record extra participant-days bought for the cycle (needs an Idempotency-Key)."""
    cycle, _ = await cycle_for(session, principal, cycle_id=cycle_id, reports=reports, lock=True)

    async def record() -> dict[str, Any]:
        purchase = TrainingPurchase(
            id=new_id("tpu"),
            cycle_id=cycle.id,
            participant_days=body.participant_days,
            reference=body.reference,
            purchased_by=principal.user,
            created_at=now(),
        )
        session.add(purchase)
        await session.flush()
        reply = TrainingPurchaseReply(
            **_balance_fields(cycle, await _balance(session, cycle)),
            purchase=TrainingPurchasePublic.model_validate(purchase, from_attributes=True),
        )
        return reply.model_dump(mode="json")

    return await idempotent(  # type: ignore[return-value]
        request=request,
        session=session,
        scope=f"{principal.org}:training-purchase",
        key=idempotency_key,
        payload={"cycle_id": cycle.id, **body.model_dump(mode="json")},
        run=record,
    )


@router.get("/cycles/{cycle_id}/training")
async def get_training(
    cycle_id: Id,
    principal: AdvisorOrFactory,
    session: SessionDep,
    reports: ReportsDep,
) -> TrainingSummary:
    """The cycle's allowance, purchases, bookings and remaining participant-days."""
    cycle, _ = await cycle_for(session, principal, cycle_id=cycle_id, reports=reports)
    bookings, purchases = await store.training_rows(session=session, cycle_id=cycle.id)
    return TrainingSummary(
        **_balance_fields(cycle, await _balance(session, cycle)),
        bookings=[TrainingBookingPublic.model_validate(b, from_attributes=True) for b in bookings],
        purchases=[
            TrainingPurchasePublic.model_validate(p, from_attributes=True) for p in purchases
        ],
    )
