"""The iCalendar feed of a factory's milestones, as the caller may see them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import icalendar
from fastapi import APIRouter, Response

from services.cycles import store
from services.cycles.api.deps import Reader, Responses, audience_for_factory
from services.cycles.api.replies import cycle_views
from services.cycles.clients import ReportsDep
from services.cycles.schemas import CyclePublic
from shared.clock import now, today
from shared.db import SessionDep
from shared.types import FactoryId

router = APIRouter(tags=["calendar"])

ICS = "text/calendar"
CALENDAR_REPLY: Responses = {
    200: {
        "description": "An iCalendar (RFC 5545) document, one all-day event per milestone.",
        "content": {ICS: {"schema": {"type": "string"}}},
    }
}


def _describe(cycle: CyclePublic, index: int) -> str:
    milestone = cycle.milestones[index]
    lines = [f"Service cycle {cycle.number} ({cycle.start_date} to {cycle.end_date})."]
    if milestone.window_start and milestone.window_end:
        lines.append(f"Window: {milestone.window_start} to {milestone.window_end}.")
    if milestone.visits_min is not None:
        most = f"-{milestone.visits_max}" if milestone.visits_max else "+"
        lines.append(
            f"Visits: {milestone.visits_completed or 0} of {milestone.visits_min}{most} done."
        )
    lines.append(f"Status: {milestone.status}.")
    return "\n".join(lines)


def build_calendar(factory_id: str, cycles: Sequence[CyclePublic], *, stamp: datetime) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Better Work//cycles service//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Better Work: factory {factory_id}")
    notices = [f"Cycle {c.number}: {c.notice}." for c in cycles if c.notice]
    if notices:
        calendar.add("x-wr-caldesc", " ".join(notices))
    for cycle in cycles:
        for index, milestone in enumerate(cycle.milestones):
            if milestone.due is None:  # hidden (unannounced) or skipped: no date to show
                continue
            event = icalendar.Event()
            event.add("uid", f"{cycle.id}-{milestone.code}@cycles.betterwork.org")
            event.add("dtstamp", stamp)
            event.add("dtstart", milestone.due)
            event.add("dtend", milestone.due + timedelta(days=1))
            event.add("summary", f"Cycle {cycle.number}: {milestone.title}")
            event.add("description", _describe(cycle, index))
            event.add("categories", [milestone.code])
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


@router.get(
    "/factories/{factory_id}/calendar.ics", response_class=Response, responses=CALENDAR_REPLY
)
async def get_calendar(
    factory_id: FactoryId, principal: Reader, session: SessionDep, reports: ReportsDep
) -> Response:
    """The factory's milestones as an iCalendar feed for planners."""
    cycles = await store.cycles_of(session=session, factory_id=factory_id)
    audience = await audience_for_factory(
        principal,
        factory_id=factory_id,
        country=cycles[0].country if cycles else None,
        reports=reports,
    )
    views = await cycle_views(
        session, reports, cycles, audience=audience, org=principal.org, today=today()
    )
    return Response(
        build_calendar(factory_id, views, stamp=now()),
        media_type=ICS,
        headers={"Content-Disposition": 'inline; filename="cycles.ics"'},
    )
