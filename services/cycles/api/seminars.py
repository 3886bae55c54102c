"""Industry seminars: advisors create them (quarterly, half or full day, at most 60
participants), factories register participants, and each factory's action plan from a
seminar becomes items of its improvement plan in the reports service."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from sqlalchemy.exc import IntegrityError

from services.cycles import store
from services.cycles.api.deps import AdvisorOrFactory, Reader, conflict
from services.cycles.clients import EligibilityDep, ReportsDep
from services.cycles.domain import RuleBroken
from services.cycles.models import Cycle, Seminar, SeminarActionPlan, SeminarRegistration
from services.cycles.schemas import (
    ActionPlanCreate,
    ActionPlanPublic,
    Country,
    IsoDate,
    RegistrationCreate,
    RegistrationPublic,
    SeminarCreate,
    SeminarPublic,
)
from shared.auth import Advisor, Principal
from shared.clock import now, today
from shared.db import SessionDep
from shared.errors import Conflict, Forbidden, NotFound
from shared.ids import new_id
from shared.pagination import Page, PageDep, paginate, sort_key
from shared.scope import ensure_in_scope
from shared.types import Id

router = APIRouter(tags=["seminars"])

FULL = conflict("The seminar is full, has taken place, or the factory is registered.")
NOT_YET = conflict("The seminar has not taken place, or the factory has no cycle.")


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _public(seminar: Seminar, taken: int) -> SeminarPublic:
    return SeminarPublic(
        id=seminar.id,
        title=seminar.title,
        date=seminar.date,
        country=seminar.country,
        duration=seminar.duration,
        capacity=seminar.capacity,
        quarter=_quarter(seminar.date),
        registered_participants=taken,
        places_left=seminar.capacity - taken,
    )


@router.post("/seminars", status_code=201)
async def create_seminar(
    body: SeminarCreate, principal: Advisor, session: SessionDep, eligibility: EligibilityDep
) -> SeminarPublic:
    """Create an industry seminar in a programme country."""
    ensure_in_scope(principal, body.country)
    if not await eligibility.has_programme(body.country):
        raise RuleBroken(
            "programme_country", f"There is no Better Work programme in {body.country}."
        )
    seminar = Seminar(
        id=new_id("sem"),
        title=body.title,
        date=body.date,
        country=body.country,
        duration=body.duration,
        capacity=body.capacity,
        created_by=principal.user,
        created_at=now(),
    )
    session.add(seminar)
    await session.flush()
    return _public(seminar, 0)


@router.get("/seminars")
async def list_seminars(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    country: Annotated[Country | None, Query(description="ISO alpha-2 programme.")] = None,
    from_date: Annotated[IsoDate | None, Query(alias="from", description="On or after.")] = None,
) -> Page[SeminarPublic]:
    """Seminars, in the order they were created, with the places left."""
    rows, next_cursor = await paginate(
        session,
        store.seminars_page(country=country, start=from_date),
        page,
        key=[sort_key(Seminar.id, str)],
    )
    taken = await store.seminar_places_taken(session, seminar_ids=[s.id for s in rows])
    return Page[SeminarPublic](
        items=[_public(s, taken[s.id]) for s in rows], next_cursor=next_cursor
    )


@router.get("/seminars/{seminar_id}")
async def get_seminar(seminar_id: Id, principal: Reader, session: SessionDep) -> SeminarPublic:
    """One seminar with the places left."""
    seminar = await store.get_seminar(session, seminar_id=seminar_id)
    if seminar is None:
        raise NotFound(f"There is no seminar {seminar_id!r}.")
    taken = await store.seminar_places_taken(session, seminar_ids=[seminar.id])
    return _public(seminar, taken[seminar.id])


def _own_factory(principal: Principal, factory_id: str) -> None:
    if principal.role == "factory" and principal.org != factory_id:
        raise Forbidden("A factory registers its own participants only.")


@router.post("/seminars/{seminar_id}/registrations", status_code=201, responses=FULL)
async def register_for_seminar(
    seminar_id: Id,
    body: RegistrationCreate,
    principal: AdvisorOrFactory,
    session: SessionDep,
    eligibility: EligibilityDep,
) -> RegistrationPublic:
    """Register a factory's participants; refused beyond the seminar's capacity."""
    _own_factory(principal, body.factory_id)
    # The row lock serialises registrations: the 61st participant is refused even when
    # two factories register at the same moment.
    seminar = await store.get_seminar(session, seminar_id=seminar_id, lock=True)
    if seminar is None:
        raise NotFound(f"There is no seminar {seminar_id!r}.")
    ensure_in_scope(principal, seminar.country)
    if seminar.date < today():
        raise Conflict(f"The seminar took place on {seminar.date}; registration is closed.")
    factory = await eligibility.factory(body.factory_id)
    if factory.enrolment_status != "enrolled":
        raise Conflict(
            "Seminars are open to Better Work factories: factory "
            f"{body.factory_id} is {factory.enrolment_status!r}.",
            rule="factory_enrolled",
        )
    if factory.country.upper() != seminar.country:
        raise RuleBroken(
            "seminar_country",
            f"This seminar is for factories in {seminar.country}; factory {body.factory_id} "
            f"is in {factory.country}.",
        )
    taken = (await store.seminar_places_taken(session, seminar_ids=[seminar.id]))[seminar.id]
    left = seminar.capacity - taken
    if body.participants > left:
        raise Conflict(
            f"The seminar is full for {body.participants} more: {taken} of {seminar.capacity} "
            f"places are taken, {left} left.",
            rule="seminar_capacity",
            capacity=seminar.capacity,
            places_left=left,
        )
    registration = SeminarRegistration(
        id=new_id("reg"),
        seminar_id=seminar.id,
        factory_id=body.factory_id,
        participants=body.participants,
        registered_by=principal.user,
        created_at=now(),
    )
    session.add(registration)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"Factory {body.factory_id} is already registered for this seminar."
        ) from exc
    return RegistrationPublic(
        id=registration.id,
        seminar_id=seminar.id,
        factory_id=registration.factory_id,
        participants=registration.participants,
        places_left=left - body.participants,
        created_at=registration.created_at,
    )


def _cycle_on(cycles: list[Cycle], day: date) -> Cycle | None:
    """The cycle running on `day`, else the latest that started before it."""
    running = [c for c in cycles if c.start_date <= day <= c.end_date]
    if running:
        return running[-1]
    started = [c for c in cycles if c.start_date <= day]
    return started[-1] if started else None


@router.post(
    "/seminars/{seminar_id}/registrations/{registration_id}/action-plan",
    status_code=201,
    responses=NOT_YET,
)
async def record_action_plan(
    seminar_id: Id,
    registration_id: Id,
    body: ActionPlanCreate,
    principal: AdvisorOrFactory,
    session: SessionDep,
    reports: ReportsDep,
) -> ActionPlanPublic:
    """Record a factory's action plan from a seminar as improvement-plan items."""
    registration = await store.get_registration(
        session, seminar_id=seminar_id, registration_id=registration_id
    )
    seminar = await store.get_seminar(session, seminar_id=seminar_id)
    if (
        registration is None
        or seminar is None
        or (principal.role == "factory" and principal.org != registration.factory_id)
    ):
        raise NotFound(f"There is no registration {registration_id!r} for this seminar.")
    ensure_in_scope(principal, seminar.country)
    if seminar.date > today():
        raise Conflict(f"The action plan is completed at the end of the seminar ({seminar.date}).")
    cycles = await store.cycles_of(session, factory_id=registration.factory_id)
    cycle = _cycle_on(cycles, seminar.date) or (cycles[-1] if cycles else None)
    if cycle is None:
        raise Conflict(
            f"Factory {registration.factory_id} has no service cycle whose improvement plan "
            "could take the action plan."
        )
    items = [
        {
            "source": "seminar",
            "title": item.title,
            "detail": f"Action plan from the industry seminar {seminar.title!r} of "
            f"{seminar.date} ({seminar.id}).",
            "owner": item.owner,
            "due_date": item.due_date,
        }
        for item in body.items
    ]
    created = await reports.add_plan_items(
        factory_id=registration.factory_id, cycle=cycle.number, items=items
    )
    plan = SeminarActionPlan(
        id=new_id("sap"),
        seminar_id=seminar.id,
        registration_id=registration.id,
        factory_id=registration.factory_id,
        cycle_number=cycle.number,
        items=created or jsonable_encoder(items),
        recorded_by=principal.user,
        created_at=now(),
    )
    session.add(plan)
    await session.flush()
    return ActionPlanPublic(
        id=plan.id,
        seminar_id=plan.seminar_id,
        registration_id=plan.registration_id,
        factory_id=plan.factory_id,
        cycle=plan.cycle_number,
        items=plan.items,
        created_at=plan.created_at,
    )
