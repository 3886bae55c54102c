"""Industry seminars: advisors create them (quarterly, half or full day, at most 60
participants), factories register participants, and each factory's action plan from a
seminar becomes items of its improvement plan in the reports service."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder

from services.cycles import store
from services.cycles.api.deps import AdvisorOrFactory, Reader, conflict
from services.cycles.clients import EligibilityDep, ReportsDep
from services.cycles.domain import RuleBroken
from services.cycles.domain.seminars import (
    CycleSpan,
    action_plan_cycle,
    action_plan_items,
    check_action_plan_day,
    check_registration,
)
from services.cycles.models import Seminar
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
from shared.errors import Forbidden, NotFound
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
    taken = await store.seminar_places_taken(session=session, seminar_ids=[s.id for s in rows])
    return Page[SeminarPublic](
        items=[_public(s, taken[s.id]) for s in rows], next_cursor=next_cursor
    )


@router.get("/seminars/{seminar_id}")
async def get_seminar(seminar_id: Id, principal: Reader, session: SessionDep) -> SeminarPublic:
    """One seminar with the places left."""
    seminar = await store.get_seminar(session=session, seminar_id=seminar_id)
    if seminar is None:
        raise NotFound(f"There is no seminar {seminar_id!r}.")
    taken = await store.seminar_places_taken(session=session, seminar_ids=[seminar.id])
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
    seminar = await store.get_seminar(session=session, seminar_id=seminar_id, lock=True)
    if seminar is None:
        raise NotFound(f"There is no seminar {seminar_id!r}.")
    ensure_in_scope(principal, seminar.country)
    factory = await eligibility.factory(body.factory_id)
    taken = (await store.seminar_places_taken(session=session, seminar_ids=[seminar.id]))[
        seminar.id
    ]
    left = check_registration(
        seminar_day=seminar.date,
        seminar_country=seminar.country,
        capacity=seminar.capacity,
        taken=taken,
        factory_id=body.factory_id,
        factory_country=factory.country,
        enrolment_status=factory.enrolment_status,
        participants=body.participants,
        today=today(),
    )
    registration = await store.add_registration(
        session=session,
        seminar_id=seminar.id,
        factory_id=body.factory_id,
        participants=body.participants,
        registered_by=principal.user,
        at=now(),
    )
    return RegistrationPublic(
        id=registration.id,
        seminar_id=seminar.id,
        factory_id=registration.factory_id,
        participants=registration.participants,
        places_left=left,
        created_at=registration.created_at,
    )


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
        session=session, seminar_id=seminar_id, registration_id=registration_id
    )
    seminar = await store.get_seminar(session=session, seminar_id=seminar_id)
    if (
        registration is None
        or seminar is None
        or (principal.role == "factory" and principal.org != registration.factory_id)
    ):
        raise NotFound(f"There is no registration {registration_id!r} for this seminar.")
    ensure_in_scope(principal, seminar.country)
    check_action_plan_day(seminar.date, today())
    cycles = await store.cycles_of(session=session, factory_id=registration.factory_id)
    spans = [CycleSpan(c.number, c.start_date, c.end_date) for c in cycles]
    number = action_plan_cycle(spans, seminar.date, registration.factory_id)
    items = action_plan_items(
        body.items, title=seminar.title, day=seminar.date, seminar_id=seminar.id
    )
    created = await reports.add_plan_items(
        factory_id=registration.factory_id, cycle=number, items=items
    )
    plan = await store.add_action_plan(
        session=session,
        registration=registration,
        cycle_number=number,
        items=created or jsonable_encoder(items),
        recorded_by=principal.user,
        at=now(),
    )
    return ActionPlanPublic(
        id=plan.id,
        seminar_id=plan.seminar_id,
        registration_id=plan.registration_id,
        factory_id=plan.factory_id,
        cycle=plan.cycle_number,
        items=plan.items,
        created_at=plan.created_at,
    )
