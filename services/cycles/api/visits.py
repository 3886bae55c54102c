"""Visits: advisors schedule and record them; partners ask for joint advisory visits;
partners and participants ask to shadow an assessment or an advisory visit."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError

from services.cycles import events, store
from services.cycles.api.deps import Reader, conflict, cycle_for
from services.cycles.api.replies import visit_view
from services.cycles.clients import ReportsClient, ReportsDep
from services.cycles.domain import (
    BUYER_TYPES,
    SHADOW_TYPES,
    RuleBroken,
    assessment_of,
    check_completion,
    check_request_date,
    check_shadow_limit,
    check_visit,
    shadow_key,
)
from services.cycles.domain.visibility import Audience, visible_visits
from services.cycles.models import Cycle, Visit, fact, plan_of
from services.cycles.rules import cycle_rules
from services.cycles.schemas import VisitComplete, VisitCreate, VisitPublic
from shared.auth import Advisor, BuyerOrAdvisor, Principal
from shared.clock import now, today
from shared.db import SessionDep
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.ids import new_id
from shared.pagination import Page, PageDep, SortKey, page_list
from shared.scope import ensure_in_scope
from shared.types import Id

router = APIRouter(tags=["visits"])

VISIT_KEY = [SortKey(type=str), SortKey(type=str)]  # (date as YYYY-MM-DD, visit id)
STATE_CONFLICT = conflict("The visit is already completed or cancelled.")


async def _buyer_may_request(
    principal: Principal, cycle: Cycle, body: VisitCreate, reports: ReportsClient
) -> None:
    allowed = BUYER_TYPES[principal.role]
    if body.type not in allowed:
        raise Forbidden(
            f"A {principal.role} may ask for {', '.join(sorted(allowed))} visits; "
            f"{body.type} visits are scheduled by Better Work."
        )
    if body.buyer_org not in (None, principal.org):
        raise Forbidden("A buyer asks for visits for its own organisation only.")
    access = await reports.access(org=principal.org, factory_id=cycle.factory_id)
    if not access.tpa_approved:
        raise Forbidden(
            f"Joint and shadow visits need an approved third-party access authorisation (TPA) "
            f"for factory {cycle.factory_id}; yours is {access.tpa_status or 'not requested'}.",
            rule="approved_tpa",
        )
    if body.type in SHADOW_TYPES and cycle.number not in access.unlocked_cycles:
        raise Forbidden(
            f"Shadow visits need an unlocked report cycle: unlock cycle {cycle.number} of "
            f"factory {cycle.factory_id} first (POST /v1/reports/unlocks).",
            rule="unlocked_report_cycle",
        )


def _buyer_org(principal: Principal, body: VisitCreate) -> str | None:
    if principal.role != "advisor":
        return principal.org
    if body.type in SHADOW_TYPES or body.type == "joint_advisory":
        if body.buyer_org is None:
            raise Unprocessable(f"Name the buyer (`buyer_org`) of a {body.type} visit.")
        return body.buyer_org
    if body.buyer_org is not None:
        raise Unprocessable("`buyer_org` is only for joint advisory and shadow visits.")
    return None


@router.post("/cycles/{cycle_id}/visits", status_code=201)
async def schedule_visit(
    cycle_id: Id,
    body: VisitCreate,
    principal: BuyerOrAdvisor,
    session: SessionDep,
    reports: ReportsDep,
) -> VisitPublic:
    """Schedule a visit (advisors), or ask for a joint or shadow visit (buyers)."""
    cycle = await store.get_cycle(session=session, cycle_id=cycle_id)
    if cycle is None:
        raise NotFound(f"There is no cycle {cycle_id!r}.")
    ensure_in_scope(principal, cycle.country)
    if principal.is_buyer:
        await _buyer_may_request(principal, cycle, body, reports)
        check_request_date(day=body.date, today=today())
    buyer_org = _buyer_org(principal, body)
    if body.assessors is not None and body.type != "assessment":
        raise Unprocessable("`assessors` are named for assessments only.")
    assessors = sorted(set(body.assessors or []))
    # From here on the cycle's row is locked: checks on its visits and the insert that
    # follows are not interleaved with another request's (taken after the call to reports).
    await store.get_cycle(session=session, cycle_id=cycle.id, lock=True)
    plan = plan_of(cycle)
    visits = await store.visits_of(session=session, cycle_id=cycle.id)
    check_visit(
        plan,
        type=body.type,
        day=body.date,
        visits=[fact(v) for v in visits],
        assessors=len(assessors) if body.assessors is not None else None,
    )
    slot = None
    if body.type in SHADOW_TYPES and buyer_org is not None:
        slot = await _shadow_slot(
            session, type=body.type, buyer_org=buyer_org, country=cycle.country, day=body.date
        )
    days = plan.rules.cycle.timing.assessment_days if body.type == "assessment" else 1
    visit = Visit(
        id=new_id("vis"),
        cycle_id=cycle.id,
        factory_id=cycle.factory_id,
        country=cycle.country,
        type=body.type,
        status="scheduled" if principal.role == "advisor" else "requested",
        date=body.date,
        end_date=body.date + timedelta(days=days - 1),
        assessors=assessors,
        note=body.note,
        buyer_org=buyer_org,
        shadow_slot=slot,
        requested_by=principal.user,
        created_at=now(),
    )
    session.add(visit)
    await _flush_slot(session, visit)
    await _event(
        session,
        reports,
        "scheduled" if principal.role == "advisor" else "requested",
        visit,
        visits=visits,
    )
    return visit_view(visit, audience=_audience(principal), org=principal.org)


async def _event(
    session: SessionDep, reports: ReportsClient, phase: str, visit: Visit, *, visits: list[Visit]
) -> None:
    """The visit's event, to those who may see it now (events.py)."""
    buyers = await events.tpa_buyers(reports, factory_id=visit.factory_id)
    told = await events.visit_changed(session, phase, visit, visits=visits, buyers=buyers)
    await store.touch_cycle(
        session=session, cycle_id=visit.cycle_id, public=visit.factory_id in told
    )


async def _shadow_slot(
    session: SessionDep,
    *,
    type: str,
    buyer_org: str,
    country: str,
    day: date,
    visit_id: str | None = None,
) -> str:
    """A free one of the buyer's shadow slots for `day`'s year, or the limit's 422."""
    limit = cycle_rules().shadow_limits[type]
    taken = [
        v
        for v in await store.shadow_visits(
            session=session, type=type, buyer_org=buyer_org, country=country, year=day.year
        )
        if v.id != visit_id
    ]
    check_shadow_limit(
        type=type,
        buyer_org=buyer_org,
        country=country,
        day=day,
        taken=[fact(v) for v in taken],
        limit=limit,
    )
    used = {v.shadow_slot for v in taken}
    keys = (
        shadow_key(type=type, buyer_org=buyer_org, country=country, year=day.year, slot=n)
        for n in range(1, limit + 1)
    )
    return next(key for key in keys if key not in used)


async def _flush_slot(session: SessionDep, visit: Visit) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request took the last shadow slot first
        limit = cycle_rules().shadow_limits.get(visit.type, 1)
        what = "assessment" if visit.type == "shadow_assessment" else "advisory visit"
        raise RuleBroken(
            f"{visit.type}_per_year",
            f"A buyer may shadow at most {limit} {what} per country per calendar year: "
            f"{visit.buyer_org} already has a {visit.type.replace('_', ' ')} in "
            f"{visit.country} in {visit.date.year}.",
        ) from exc


def _audience(principal: Principal) -> Audience:
    """Whoever writes a visit sees it whole (a buyer writes only its own requests)."""
    return Audience.STAFF if principal.role == "advisor" else Audience.BUYER


@router.get("/cycles/{cycle_id}/visits")
async def list_visits(
    cycle_id: Id,
    principal: Reader,
    session: SessionDep,
    reports: ReportsDep,
    page: PageDep,
) -> Page[VisitPublic]:
    """The cycle's visits the caller may see, by date."""
    cycle, audience = await cycle_for(session, principal, cycle_id=cycle_id, reports=reports)
    visits = visible_visits(
        audience, principal.org, await store.visits_of(session=session, cycle_id=cycle.id)
    )
    chosen, next_cursor = page_list(
        visits, page, key=VISIT_KEY, value=lambda visit: (visit.date.isoformat(), visit.id)
    )
    return Page[VisitPublic](
        items=[visit_view(v, audience=audience, org=principal.org) for v in chosen],
        next_cursor=next_cursor,
    )


async def _visit_for_change(
    session: SessionDep, principal: Principal, *, cycle_id: str, visit_id: str
) -> tuple[Cycle, Visit]:
    cycle = await store.get_cycle(session=session, cycle_id=cycle_id, lock=True)
    visit = None
    if cycle is not None:
        ensure_in_scope(principal, cycle.country)
        visit = await store.get_visit(
            session=session, cycle_id=cycle.id, visit_id=visit_id, lock=True
        )
    if cycle is None or visit is None:
        raise NotFound(f"There is no visit {visit_id!r} in cycle {cycle_id!r}.")
    return cycle, visit


@router.post("/cycles/{cycle_id}/visits/{visit_id}/complete", responses=STATE_CONFLICT)
async def complete_visit(
    cycle_id: Id,
    visit_id: Id,
    principal: Advisor,
    session: SessionDep,
    reports: ReportsDep,
    body: VisitComplete | None = None,
) -> VisitPublic:
    """Record that a visit took place (on its planned date unless `date` says otherwise)."""
    body = body or VisitComplete()
    cycle, visit = await _visit_for_change(session, principal, cycle_id=cycle_id, visit_id=visit_id)
    if body.assessors is not None and visit.type != "assessment":
        raise Unprocessable("`assessors` are named for assessments only.")
    plan = plan_of(cycle)
    rows = await store.visits_of(session=session, cycle_id=cycle.id)
    visits = [fact(v) for v in rows]
    day = body.date or visit.date
    assessors = sorted(set(body.assessors if body.assessors is not None else visit.assessors))
    check_completion(
        plan,
        visit=fact(visit),
        day=day,
        today=today(),
        visits=visits,
        assessors=len(assessors),
    )
    if visit.type == "shadow_assessment":
        # A shadow assessment is the assessment, seen by a buyer: same days.
        held = assessment_of(visits)
        day = held.date if held is not None else day
    days = plan.rules.cycle.timing.assessment_days if visit.type == "assessment" else 1
    year_before = visit.date.year
    visit.date, visit.end_date = day, day + timedelta(days=days - 1)
    visit.assessors = assessors
    if body.note is not None:
        visit.note = body.note
    visit.status = "completed"
    visit.completed_at, visit.completed_by = now(), principal.user
    if visit.shadow_slot is not None and visit.buyer_org is not None and day.year != year_before:
        # Held in another year than asked for: it takes that year's slot instead.
        visit.shadow_slot = await _shadow_slot(
            session,
            type=visit.type,
            buyer_org=visit.buyer_org,
            country=visit.country,
            day=day,
            visit_id=visit.id,
        )
    await _flush_slot(session, visit)
    await _event(session, reports, "completed", visit, visits=rows)
    return visit_view(visit, audience=Audience.STAFF, org=principal.org)


@router.post("/cycles/{cycle_id}/visits/{visit_id}/cancel", responses=STATE_CONFLICT)
async def cancel_visit(
    cycle_id: Id,
    visit_id: Id,
    principal: BuyerOrAdvisor,
    session: SessionDep,
    reports: ReportsDep,
) -> VisitPublic:
    """Cancel a planned visit (advisors), or withdraw your own request (buyers)."""
    cycle, visit = await _visit_for_change(session, principal, cycle_id=cycle_id, visit_id=visit_id)
    if principal.is_buyer and visit.buyer_org != principal.org:
        # Another buyer's request or an advisor's visit: not the caller's to know of.
        raise NotFound(f"There is no visit {visit_id!r} in cycle {cycle_id!r}.")
    if visit.status in ("completed", "cancelled"):
        raise Conflict(f"Visit {visit.id} is {visit.status}; only planned visits are cancelled.")
    visit.status = "cancelled"
    visit.cancelled_at = now()
    visit.shadow_slot = None  # frees the buyer's yearly shadow slot
    await session.flush()
    await _event(
        session,
        reports,
        "cancelled",
        visit,
        visits=await store.visits_of(session=session, cycle_id=cycle.id),
    )
    return visit_view(visit, audience=_audience(principal), org=principal.org)
