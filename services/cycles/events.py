"""The events cycles records, in the transaction of the change (shared.outbox), with their
audiences decided by the same rules its reads use (domain/visibility.py):

- advisors: those whose programmes cover the factory's country (shared.scope);
- the factory: what `visible_visits` shows it (so never a planned assessment, nor a shadow
  assessment before the assessment was held);
- buyers: those holding an approved TPA (asked of reports, as reads do), and of those only
  the ones `visible_visits` would show the visit to (their own shadow requests).

Unannounced means unannounced: a planned assessment's events (scheduled, cancelled) and the
assessment milestone's alerts go to advisors only; no event a factory or buyer sees is
derived from the planned date.

Milestone alerts (due in 7 days, overdue; jobs.py) reach the advisors, the factory and the
TPA holders, each organisation only while it reads the milestone as open and dated in
`GET /cycles/{id}` (`visible_visits`, then `shape_milestones`: `shows_open_milestone`), so
never the assessment's before it is held; the assessment's alerts go to advisors only
(jobs.AUDIENCES).

Buyers with a TPA: reports lists a factory's approved TPA holders
(`/internal/factories/{id}/tpa-holders`), so every holder gets the cycle's events (cycle
opened, classification changed, the visits `visible_visits` shows it), not only the buyers
named on the factory's visits. The classification event carries the outcome only
(`high_performing`), never the evidence, as buyers read it
(`GET /factories/{id}/high-performing`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.cycles.clients import ReportsClient
from services.cycles.domain import milestone_states
from services.cycles.domain.visibility import Audience, shows_open_milestone, visible_visits
from services.cycles.models import Cycle, Visit, fact, plan_of
from shared.events import EventData
from shared.events import cycles as events
from shared.outbox import Subject, record

__all__ = [
    "classification_changed",
    "cycle_opened",
    "milestone_alert",
    "milestone_audience",
    "tpa_buyers",
    "visit_changed",
]


async def tpa_buyers(reports: ReportsClient, *, factory_id: str) -> list[str]:
    """The buyers holding an approved TPA for this factory today (asked of reports)."""
    return await reports.tpa_holders(factory_id=factory_id)


async def cycle_opened(session: AsyncSession, cycle: Cycle, *, buyers: Sequence[str]) -> None:
    payload = events.CycleOpened(
        cycle_id=cycle.id,
        factory_id=cycle.factory_id,
        number=cycle.number,
        start_date=cycle.start_date,
        end_date=cycle.end_date,
    )
    await record(
        session,
        payload,
        subject=Subject("cycle", cycle.id),
        orgs=[cycle.factory_id, *buyers],
        countries=[cycle.country],
    )


def _payload(phase: str, visit: Visit) -> EventData:
    ids = {
        "visit_id": visit.id,
        "cycle_id": visit.cycle_id,
        "factory_id": visit.factory_id,
        "type": visit.type,
    }
    if phase == "requested":
        return events.VisitRequested(**ids, date=visit.date)
    if phase == "scheduled":
        return events.VisitScheduled(**ids, date=visit.date)
    if phase == "completed":
        return events.VisitCompleted(**ids)
    if phase == "cancelled":
        return events.VisitCancelled(**ids)
    raise ValueError(f"no visit event for {phase!r}")


def visit_audience(visit: Visit, *, visits: Sequence[Visit], buyers: Sequence[str]) -> list[str]:
    """The organisations that see `visit` (as changed) among the cycle's `visits`."""
    others = [v for v in visits if v.id != visit.id]
    after = [*others, visit]

    def sees(audience: Audience, org: str) -> bool:
        return any(v is visit for v in visible_visits(audience, org, after))

    factory = [visit.factory_id] if sees(Audience.FACTORY, visit.factory_id) else []
    return factory + [org for org in buyers if sees(Audience.BUYER, org)]


async def visit_changed(
    session: AsyncSession,
    phase: str,
    visit: Visit,
    *,
    visits: Sequence[Visit],
    buyers: Sequence[str],
) -> list[str]:
    """`phase`: requested, scheduled, completed or cancelled. `visits`: the cycle's visits
    (with `visit` as changed, or without it); `buyers`: the TPA holders (tpa_buyers).
    Returns the organisations that were told."""
    orgs = visit_audience(visit, visits=visits, buyers=buyers)
    await record(
        session,
        _payload(phase, visit),
        subject=Subject("visit", visit.id),
        orgs=orgs,
        countries=[visit.country],
    )
    return orgs


async def classification_changed(
    session: AsyncSession,
    *,
    factory_id: str,
    country: str,
    high_performing: bool,
    buyers: Sequence[str],
) -> None:
    # The outcome only: advisors and the factory read the evidence
    # (api/classification.py), TPA holders the outcome (`/high-performing`).
    await record(
        session,
        events.ClassificationChanged(factory_id=factory_id, high_performing=high_performing),
        subject=Subject("factory", factory_id),
        orgs=[factory_id, *buyers],
        countries=[country],
    )


def _reads_open(
    audience: Audience,
    org: str,
    cycle: Cycle,
    *,
    milestone: str,
    visits: Sequence[Visit],
    released: Sequence[str],
    today: date,
) -> bool:
    """Whether `org` reads `milestone` of the cycle as open and dated, as GET /cycles/{id}
    shows it to `audience` (api/replies.cycle_view)."""
    seen = visible_visits(audience, org, visits)
    states = milestone_states(
        plan_of(cycle), visits=[fact(v) for v in seen], released=released, today=today
    )
    return shows_open_milestone(audience, states, milestone)


def milestone_audience(
    cycle: Cycle,
    *,
    milestone: str,
    parties: Collection[Audience],
    visits: Sequence[Visit],
    released: Sequence[str],
    buyers: Sequence[str],
    today: date,
) -> list[str]:
    """The organisations told of an alert of `milestone` (besides the advisors): of the
    `parties` it may reach (the factory, the TPA holders `buyers`), those that read the
    milestone as open and dated."""

    def reads(audience: Audience, org: str) -> bool:
        return audience in parties and _reads_open(
            audience,
            org,
            cycle,
            milestone=milestone,
            visits=visits,
            released=released,
            today=today,
        )

    factory = [cycle.factory_id] if reads(Audience.FACTORY, cycle.factory_id) else []
    return factory + [org for org in dict.fromkeys(buyers) if reads(Audience.BUYER, org)]


async def milestone_alert(
    session: AsyncSession, payload: EventData, cycle: Cycle, *, orgs: Sequence[str]
) -> None:
    await record(
        session,
        payload,
        subject=Subject("cycle", cycle.id),
        orgs=orgs,
        countries=[cycle.country],
    )
