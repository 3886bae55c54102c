"""Report cycles: advisors open them (the cycles service does too, through /internal);
everyone lists the cycles of a factory they may know of."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.reports import store
from services.reports.api.deps import (
    Advisor,
    AnyMember,
    existing,
    page_of,
    problems,
)
from services.reports.clients import EligibilityDep
from services.reports.domain.access import Verdict, can_read, covers_country, enforce
from services.reports.schemas import (
    MAX_CYCLE,
    ReportCycleCreate,
    ReportCyclePublic,
    ReportCycleView,
    shapes,
)
from shared.clock import now
from shared.db import SessionDep
from shared.enrolment import ensure_enrolled
from shared.errors import NotFound
from shared.pagination import Page, PageDep, SortKey
from shared.types import FactoryId

router = APIRouter(tags=["report cycles"])


@router.post(
    "/factories/{factory_id}/cycles",
    status_code=201,
    responses=existing(ReportCyclePublic, "The cycle was open already.") | problems(409),
)
async def open_report_cycle(
    factory_id: FactoryId,
    body: ReportCycleCreate,
    caller: Advisor,
    session: SessionDep,
    eligibility: EligibilityDep,
    response: Response,
) -> ReportCyclePublic:
    """Open a report cycle of an enrolled factory (opening it again returns it)."""
    factory = await eligibility.factory(factory_id)
    if factory is None:
        raise NotFound(f"The registry has no factory {factory_id!r}.")
    enforce(covers_country(caller.principal, factory.country))
    ensure_enrolled(factory_id, factory.enrolment_status, service="report cycles open")
    cycle, created = await store.open_cycle(
        session=session,
        factory_id=factory_id,
        cycle=body.cycle,
        country=factory.country,
        opened_by=caller.principal.user,
        now=now(),
    )
    if not created:
        response.status_code = 200
    return shapes.cycle(cycle)


CYCLE_NUMBER = SortKey(type=int, minimum=1, maximum=MAX_CYCLE)


@router.get("/factories/{factory_id}/cycles")
async def list_report_cycles(
    factory_id: FactoryId, caller: AnyMember, session: SessionDep, page: PageDep
) -> Page[ReportCycleView]:
    """The factory's report cycles the caller may know of, and whether it may read each."""
    views = []
    for cycle, facts in await store.list_cycles_with_facts(
        session=session, factory_id=factory_id, org=caller.org
    ):
        if not covers_country(caller.principal, cycle.country).allowed:
            continue  # an advisor lists only the cycles of its programmes' factories
        decision = can_read(
            caller.principal, cycle, facts.tpa, facts.unlock, facts.share, caller.membership
        )
        if decision.verdict is not Verdict.NOT_FOUND:
            views.append(
                ReportCycleView(**shapes.cycle(cycle).model_dump(), readable=decision.allowed)
            )
    return page_of(views, page, key=CYCLE_NUMBER, value=lambda view: view.cycle)
