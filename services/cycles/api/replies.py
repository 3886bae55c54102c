"""A cycle as one caller sees it: its plan recomputed from the stored start, the
documents released in reports, and the milestones derived from the visible visits."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.cycles import store
from services.cycles.clients import ReportsClient
from services.cycles.domain import RELEASE_MILESTONES, milestone_states
from services.cycles.domain.visibility import (
    Audience,
    cycle_notice,
    shape_milestones,
    shown_buyer_org,
    visible_visits,
)
from services.cycles.models import Cycle, Visit, fact, plan_of
from services.cycles.schemas import CyclePublic, VisitPublic
from shared.http import UpstreamError

__all__ = [
    "cycle_view",
    "cycle_views",
    "released_documents",
    "releases_that_count",
    "visit_view",
]


def releases_that_count(cycle: Cycle, visits: Sequence[Visit], today: date) -> set[str]:
    """The document kinds whose release can count by now: the assessment report once the
    assessment has been held, each progress report once its window has opened (month 5,
    month 11). Reports is asked only about those, so a cycle early in its year costs no
    call; a progress report released before its window opens counts from that day on."""
    kinds = set()
    held = any(v.type == "assessment" and v.status == "completed" for v in visits)
    if held and not cycle.assessment_skipped:
        kinds.add("assessment")
    plan = plan_of(cycle)
    for kind in ("progress_report_1", "progress_report_2"):
        opens = plan.milestone(RELEASE_MILESTONES[kind]).window_start
        if opens is not None and today >= opens:
            kinds.add(kind)
    return kinds


async def _released_one(
    reports: ReportsClient, cycle: Cycle, visits: Sequence[Visit], today: date
) -> list[str]:
    known = set(cycle.released_documents)
    if releases_that_count(cycle, visits, today) <= known:
        return sorted(known)
    try:
        documents = await reports.documents(factory_id=cycle.factory_id, cycle=cycle.number)
    except UpstreamError as exc:
        if exc.status != 404:  # 404: reports has no such report cycle, so nothing released
            raise
        documents = []
    seen = {d.kind for d in documents if d.status == "released" and d.kind in RELEASE_MILESTONES}
    if not seen <= known:
        # Remembered (a release is never undone), so a finished cycle costs no call.
        cycle.released_documents = sorted(known | seen)
    return sorted(known | seen)


async def released_documents(
    reports: ReportsClient,
    cycles: Sequence[Cycle],
    *,
    visits: Mapping[str, Sequence[Visit]],
    today: date,
) -> dict[str, list[str]]:
    """Document kinds released in reports, per cycle id (asked concurrently)."""
    found = await asyncio.gather(
        *(_released_one(reports, cycle, visits.get(cycle.id, ()), today) for cycle in cycles)
    )
    return {cycle.id: kinds for cycle, kinds in zip(cycles, found, strict=True)}


def visit_view(visit: Visit, *, audience: Audience, org: str) -> VisitPublic:
    buyer_org = shown_buyer_org(audience, org, visit)
    hidden_partner = visit.buyer_org is not None and buyer_org is None
    return VisitPublic(
        id=visit.id,
        cycle_id=visit.cycle_id,
        type=visit.type,
        status=visit.status,
        date=visit.date,
        end_date=visit.end_date,
        assessors=list(visit.assessors),
        note=None if hidden_partner else visit.note,
        buyer_org=buyer_org,
        created_at=visit.created_at,
        completed_at=visit.completed_at,
    )


def cycle_view(
    cycle: Cycle,
    *,
    visits: Sequence[Visit],
    released: Sequence[str],
    audience: Audience,
    org: str,
    today: date,
) -> CyclePublic:
    seen = visible_visits(audience, org, visits)
    states = milestone_states(
        plan_of(cycle), visits=[fact(v) for v in seen], released=released, today=today
    )
    return CyclePublic(
        id=cycle.id,
        factory_id=cycle.factory_id,
        number=cycle.number,
        country=cycle.country,
        start_date=cycle.start_date,
        end_date=cycle.end_date,
        assessment_skipped=cycle.assessment_skipped,
        training_participant_days=cycle.training_participant_days,
        schedule_rules=cycle.schedule_rules,
        milestones=shape_milestones(audience, states),
        notice=cycle_notice(audience, states),
    )


async def cycle_views(
    session: AsyncSession,
    reports: ReportsClient,
    cycles: Sequence[Cycle],
    *,
    audience: Audience,
    org: str,
    today: date,
) -> list[CyclePublic]:
    """Several cycles as one caller sees them: their visits in one query, the releases asked
    of reports concurrently."""
    visits = await store.visits_of_cycles(session=session, cycle_ids=[c.id for c in cycles])
    released = await released_documents(reports, cycles, visits=visits, today=today)
    return [
        cycle_view(
            cycle,
            visits=visits[cycle.id],
            released=released[cycle.id],
            audience=audience,
            org=org,
            today=today,
        )
        for cycle in cycles
    ]
