"""Opening a cycle and reading cycles with their milestones."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Response

from services.cycles import events, jobs, store
from services.cycles.api.deps import (
    NOT_MODIFIED,
    Reader,
    audience_for_factory,
    conflict,
    readable_cycle,
)
from services.cycles.api.replies import cycle_view, cycle_views
from services.cycles.clients import EligibilityDep, ReportsDep
from services.cycles.domain.opening import PreviousCycle, plan_next_cycle
from services.cycles.domain.visibility import Audience
from services.cycles.models import Cycle
from services.cycles.schemas import CycleCreate, CyclePublic
from shared.auth import Advisor
from shared.clock import now, today
from shared.db import SessionDep
from shared.pagination import Page, PageDep, SortKey, UpdatedSince, page_list
from shared.scope import ensure_in_scope
from shared.types import FactoryId, Id

router = APIRouter(tags=["cycles"])

CYCLE_NUMBER = SortKey(type=int, minimum=1)
CONFLICT = conflict("The factory is not enrolled, or a cycle was opened meanwhile.")


@router.post("/factories/{factory_id}/cycles", status_code=201, responses=CONFLICT)
async def open_cycle(
    factory_id: FactoryId,
    body: CycleCreate,
    principal: Advisor,
    session: SessionDep,
    eligibility: EligibilityDep,
    reports: ReportsDep,
) -> CyclePublic:
    """Open the factory's next service cycle, with its schedule, and its report cycle."""
    factory = await eligibility.factory(factory_id)
    ensure_in_scope(principal, factory.country)
    cycles = await store.cycles_of(session=session, factory_id=factory_id)
    previous = cycles[-1] if cycles else None
    classification = (
        await store.latest_classification(session=session, factory_id=factory_id)
        if body.skip_assessment
        else None
    )
    number, plan = plan_next_cycle(
        factory_id=factory_id,
        country=factory.country,
        enrolment_status=factory.enrolment_status,
        training_participant_days=factory.training_participant_days,
        previous=PreviousCycle(previous.number, previous.end_date, previous.assessment_skipped)
        if previous
        else None,
        start=body.start_date,
        skip_assessment=body.skip_assessment,
        high_performing=classification is not None and classification.high_performing,
    )
    cycle = await store.add_cycle(
        session=session,
        factory_id=factory_id,
        number=number,
        plan=plan,
        opened_by=principal.user,
        at=now(),
    )
    # Idempotent in reports: if our commit fails after this, a retry opens it again safely.
    await reports.open_report_cycle(factory_id=factory_id, cycle=number, country=plan.country)
    await jobs.plan_alerts(session, cycle)
    buyers = await events.tpa_buyers(reports, factory_id=factory_id)
    await events.cycle_opened(session, cycle, buyers=buyers)
    return cycle_view(
        cycle, visits=[], released=[], audience=Audience.STAFF, org=principal.org, today=today()
    )


@router.get("/factories/{factory_id}/cycles")
async def list_factory_cycles(
    factory_id: FactoryId,
    principal: Reader,
    session: SessionDep,
    reports: ReportsDep,
    page: PageDep,
    updated_since: UpdatedSince,
) -> Page[CyclePublic]:
    """The factory's cycles, oldest first, as the caller may see them."""
    cycles = await store.cycles_of(session=session, factory_id=factory_id)
    audience = await audience_for_factory(
        principal,
        factory_id=factory_id,
        country=cycles[0].country if cycles else None,
        reports=reports,
    )
    if updated_since is not None:
        cycles = [c for c in cycles if _changed_since(c, audience, updated_since)]
    chosen, next_cursor = page_list(
        cycles, page, key=[CYCLE_NUMBER], value=lambda cycle: (cycle.number,)
    )
    items = await cycle_views(
        session, reports, chosen, audience=audience, org=principal.org, today=today()
    )
    return Page[CyclePublic](items=items, next_cursor=next_cursor)


@router.get("/cycles/{cycle_id}", responses=NOT_MODIFIED)
async def get_cycle(
    cycle_id: Id,
    principal: Reader,
    session: SessionDep,
    reports: ReportsDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> CyclePublic:
    """One cycle with its milestones; ETag over exactly what the caller sees."""
    cycle, visits, audience, released = await readable_cycle(
        session, principal, cycle_id=cycle_id, reports=reports
    )
    view = cycle_view(
        cycle,
        visits=visits,
        released=released,
        audience=audience,
        org=principal.org,
        today=today(),
    )
    body = view.model_dump_json().encode()
    # The tag hashes this caller's body, so it changes only when what they see changes.
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": etag})  # type: ignore[return-value]
    return Response(body, media_type="application/json", headers={"ETag": etag})  # type: ignore[return-value]


def _changed_since(cycle: Cycle, audience: Audience, since: datetime) -> bool:
    moment = cycle.changed_at if audience is Audience.STAFF else cycle.updated_at
    moment = moment or cycle.opened_at
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment >= since
