"""Database queries of the cycles service: an async session in, rows out. Only flushes;
the request's session dependency commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.cycles.domain.schedule import CyclePlan
from services.cycles.models import (
    Classification,
    Cycle,
    Seminar,
    SeminarActionPlan,
    SeminarRegistration,
    TrainingBooking,
    TrainingPurchase,
    Visit,
)
from shared.errors import Conflict
from shared.ids import new_id

__all__ = [
    "add_action_plan",
    "add_cycle",
    "add_registration",
    "assessed_cycle_numbers",
    "cycle_with_visits",
    "cycles_of",
    "get_cycle",
    "get_registration",
    "get_seminar",
    "get_visit",
    "latest_classification",
    "latest_cycle",
    "seminar_places_taken",
    "seminars_page",
    "shadow_visits",
    "touch_cycle",
    "training_rows",
    "training_totals",
    "visits_of",
    "visits_of_cycles",
]


async def get_cycle(*, session: AsyncSession, cycle_id: str, lock: bool = False) -> Cycle | None:
    """`lock`: hold the cycle's row until commit, so that checks on its visits or training
    balance and the write that follows are not interleaved with another request's."""
    statement = select(Cycle).where(Cycle.id == cycle_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def cycle_with_visits(
    *, session: AsyncSession, cycle_id: str
) -> tuple[Cycle, list[Visit]] | None:
    """A cycle and its visits (by date) in one round trip: the hot read of GET /cycles/{id}."""
    statement = (
        select(Cycle, Visit)
        .outerjoin(Visit, col(Visit.cycle_id) == col(Cycle.id))
        .where(Cycle.id == cycle_id)
        .order_by(col(Visit.date), col(Visit.id))
    )
    rows = (await session.execute(statement)).all()
    if not rows:
        return None
    return rows[0][0], [visit for _, visit in rows if visit is not None]


async def cycles_of(*, session: AsyncSession, factory_id: str) -> list[Cycle]:
    statement = select(Cycle).where(Cycle.factory_id == factory_id).order_by(col(Cycle.number))
    return list((await session.scalars(statement)).all())


async def latest_cycle(*, session: AsyncSession, factory_id: str) -> Cycle | None:
    statement = (
        select(Cycle)
        .where(Cycle.factory_id == factory_id)
        .order_by(col(Cycle.number).desc())
        .limit(1)
    )
    return (await session.scalars(statement)).first()


async def visits_of(*, session: AsyncSession, cycle_id: str) -> list[Visit]:
    statement = (
        select(Visit).where(Visit.cycle_id == cycle_id).order_by(col(Visit.date), col(Visit.id))
    )
    return list((await session.scalars(statement)).all())


async def visits_of_cycles(
    *, session: AsyncSession, cycle_ids: Sequence[str]
) -> dict[str, list[Visit]]:
    found: dict[str, list[Visit]] = {cycle_id: [] for cycle_id in cycle_ids}
    if not cycle_ids:
        return found
    statement = (
        select(Visit)
        .where(col(Visit.cycle_id).in_(list(cycle_ids)))
        .order_by(col(Visit.date), col(Visit.id))
    )
    for visit in (await session.scalars(statement)).all():
        found[visit.cycle_id].append(visit)
    return found


async def get_visit(
    *, session: AsyncSession, cycle_id: str, visit_id: str, lock: bool = False
) -> Visit | None:
    statement = select(Visit).where(Visit.id == visit_id, Visit.cycle_id == cycle_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def shadow_visits(
    *, session: AsyncSession, type: str, buyer_org: str, country: str, year: int
) -> list[Visit]:
    """A buyer's active shadow visits of `type` in `country` during calendar year `year`."""
    statement = select(Visit).where(
        Visit.type == type,
        Visit.buyer_org == buyer_org,
        Visit.country == country,
        Visit.status != "cancelled",
        col(Visit.date) >= date(year, 1, 1),
        col(Visit.date) <= date(year, 12, 31),
    )
    return list((await session.scalars(statement)).all())


async def assessed_cycle_numbers(*, session: AsyncSession, factory_id: str) -> set[int]:
    """Numbers of the factory's cycles whose assessment has been held."""
    statement = (
        select(Cycle.number)
        .join(Visit, col(Visit.cycle_id) == col(Cycle.id))
        .where(
            Cycle.factory_id == factory_id,
            Visit.type == "assessment",
            Visit.status == "completed",
        )
    )
    return set((await session.scalars(statement)).all())


async def training_totals(*, session: AsyncSession, cycle_id: str) -> tuple[int, int]:
    """(participant-days purchased, participant-days booked) of a cycle."""
    purchased = await session.scalar(
        select(sa.func.coalesce(sa.func.sum(TrainingPurchase.participant_days), 0)).where(
            TrainingPurchase.cycle_id == cycle_id
        )
    )
    used = await session.scalar(
        select(sa.func.coalesce(sa.func.sum(TrainingBooking.participant_days), 0)).where(
            TrainingBooking.cycle_id == cycle_id
        )
    )
    return int(purchased or 0), int(used or 0)


async def training_rows(
    *, session: AsyncSession, cycle_id: str
) -> tuple[list[TrainingBooking], list[TrainingPurchase]]:
    bookings = await session.scalars(
        select(TrainingBooking)
        .where(TrainingBooking.cycle_id == cycle_id)
        .order_by(col(TrainingBooking.id))
    )
    purchases = await session.scalars(
        select(TrainingPurchase)
        .where(TrainingPurchase.cycle_id == cycle_id)
        .order_by(col(TrainingPurchase.id))
    )
    return list(bookings.all()), list(purchases.all())


async def get_seminar(
    *, session: AsyncSession, seminar_id: str, lock: bool = False
) -> Seminar | None:
    statement = select(Seminar).where(Seminar.id == seminar_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def seminar_places_taken(
    *, session: AsyncSession, seminar_ids: Sequence[str]
) -> dict[str, int]:
    taken = dict.fromkeys(seminar_ids, 0)
    if not seminar_ids:
        return taken
    statement = (
        select(SeminarRegistration.seminar_id, sa.func.sum(SeminarRegistration.participants))
        .where(col(SeminarRegistration.seminar_id).in_(list(seminar_ids)))
        .group_by(col(SeminarRegistration.seminar_id))
    )
    for seminar_id, participants in (await session.execute(statement)).all():
        taken[seminar_id] = int(participants or 0)
    return taken


def seminars_page(*, country: str | None, start: date | None) -> sa.Select[tuple[Seminar]]:
    statement = select(Seminar)
    if country is not None:
        statement = statement.where(Seminar.country == country)
    if start is not None:
        statement = statement.where(col(Seminar.date) >= start)
    return statement  # type: ignore[return-value]


async def get_registration(
    *, session: AsyncSession, seminar_id: str, registration_id: str
) -> SeminarRegistration | None:
    statement = select(SeminarRegistration).where(
        SeminarRegistration.id == registration_id, SeminarRegistration.seminar_id == seminar_id
    )
    return (await session.scalars(statement)).first()


async def latest_classification(*, session: AsyncSession, factory_id: str) -> Classification | None:
    statement = (
        select(Classification)
        .where(Classification.factory_id == factory_id)
        .order_by(col(Classification.id).desc())
        .limit(1)
    )
    return (await session.scalars(statement)).first()


async def touch_cycle(*, session: AsyncSession, cycle_id: str, public: bool) -> None:
    """Mark the cycle changed (for `updated_since`); `public`: a change its factory and
    buyers may see, else one for advisors only."""
    moment = datetime.now(UTC)
    values = {"changed_at": moment, "updated_at": moment} if public else {"changed_at": moment}
    await session.execute(sa.update(Cycle).where(col(Cycle.id) == cycle_id).values(**values))


async def add_cycle(
    *,
    session: AsyncSession,
    factory_id: str,
    number: int,
    plan: CyclePlan,
    opened_by: str,
    at: datetime,
) -> Cycle:
    """The factory's cycle `number`, as planned; 409 when another request opened it first."""
    cycle = Cycle(
        id=new_id("cyc"),
        factory_id=factory_id,
        number=number,
        country=plan.country,
        start_date=plan.start,
        end_date=plan.end,
        assessment_skipped=plan.assessment_skipped,
        training_participant_days=plan.training_participant_days,
        schedule_rules=plan.rules.cycle.version,
        released_documents=[],
        opened_by=opened_by,
        opened_at=at,
        updated_at=at,
        changed_at=at,
    )
    session.add(cycle)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"Cycle {number} of factory {factory_id} was opened by another request meanwhile; "
            "read the factory's cycles and try again if needed."
        ) from exc
    return cycle


async def add_registration(
    *,
    session: AsyncSession,
    seminar_id: str,
    factory_id: str,
    participants: int,
    registered_by: str,
    at: datetime,
) -> SeminarRegistration:
    """A factory's registration; 409 when the factory is registered already."""
    registration = SeminarRegistration(
        id=new_id("reg"),
        seminar_id=seminar_id,
        factory_id=factory_id,
        participants=participants,
        registered_by=registered_by,
        created_at=at,
    )
    session.add(registration)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Factory {factory_id} is already registered for this seminar.") from exc
    return registration


async def add_action_plan(
    *,
    session: AsyncSession,
    registration: SeminarRegistration,
    cycle_number: int,
    items: list[dict[str, Any]],
    recorded_by: str,
    at: datetime,
) -> SeminarActionPlan:
    plan = SeminarActionPlan(
        id=new_id("sap"),
        seminar_id=registration.seminar_id,
        registration_id=registration.id,
        factory_id=registration.factory_id,
        cycle_number=cycle_number,
        items=items,
        recorded_by=recorded_by,
        created_at=at,
    )
    session.add(plan)
    await session.flush()
    return plan
