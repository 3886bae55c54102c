"""Time-based milestone events ("due in 7 days", "overdue"): a durable, replica-safe
scheduler on rows of `milestone_alert` (ARCHITECTURE.md, "Events").

- Rows are planned when a cycle opens (`plan_alerts`, in that transaction); cycles opened
  before this existed get theirs on the scheduler's first run (`plan_missing`), with the
  moments already past settled as `backfilled` rather than sent years late.
- `send_due` claims due rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises
  writers), then marks each sent with a conditional UPDATE and records its event in the
  same transaction: exactly one event per cycle, milestone and kind, however many replicas
  run the job.
- Whether a milestone is still open is decided at sending time from the cycle's visits and
  the documents cycles has seen released (staff view); an alert for a milestone done (or
  skipped) by then is settled without an event.
- Audiences (rules as data, `AUDIENCES`): advisors of the factory's country, the factory
  itself and the buyers holding an approved TPA for it (asked of reports for each batch,
  one call per factory), each organisation only while it reads the milestone as open in
  `GET /cycles/{id}` (events.milestone_audience); the unannounced assessment's alerts go to
  advisors only: their timing alone would point at its date.
- When reports does not answer, the alerts that would reach buyers are left unsent (not
  sent without them) and the round ends: the next round asks again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.cycles import events as cycle_events
from services.cycles import store
from services.cycles.clients import ReportsClient, reports_client
from services.cycles.domain import milestone_states
from services.cycles.domain.schedule import ASSESSMENT, ASSESSMENT_REPORT_RELEASE, PlannedMilestone
from services.cycles.domain.visibility import Audience
from services.cycles.models import Cycle, MilestoneAlert, fact, plan_of
from shared.background import start_repeating, stop_repeating
from shared.db import insert_for
from shared.errors import ApiError
from shared.events import EventData
from shared.events import cycles as events
from shared.ids import new_id
from shared.settings import Settings

__all__ = [
    "AUDIENCES",
    "DUE_SOON_DAYS",
    "plan_alerts",
    "plan_missing",
    "scheduler_seconds",
    "send_due",
    "start_scheduler",
    "stop_scheduler",
]

log = logging.getLogger("betterwork.cycles.alerts")

DUE_SOON_DAYS: Final = 7
DUE_SOON: Final = "due_soon"
OVERDUE: Final = "overdue"
POSTPONED: Final = "postponed"
# Who hears of a milestone's alerts besides the advisors of the country.
AUDIENCES: Final[dict[str, tuple[Audience, ...]]] = {
    ASSESSMENT: (),  # unannounced: nobody but advisors
}
DEFAULT_AUDIENCE: Final = (Audience.FACTORY, Audience.BUYER)
BATCH: Final = 200


def _parties(milestone: str) -> tuple[Audience, ...]:
    return AUDIENCES.get(milestone, DEFAULT_AUDIENCE)


class SchedulerSettings(BaseSettings):
    # BW_SCHEDULER_SECONDS: how often the job runs; 0 turns it off. Unset: every 60 s,
    # and off when BW_ENV=test (tests call send_due with an explicit day).
    seconds: float | None = Field(None, ge=0, validation_alias="BW_SCHEDULER_SECONDS")


def scheduler_seconds(settings: Settings) -> float:
    explicit = SchedulerSettings().seconds
    if explicit is not None:
        return explicit
    return 0.0 if settings.environment == "test" else 60.0


def _due(milestone: PlannedMilestone) -> date | None:
    # The release milestone's alerts use its outer bound (end of month 5), the date a
    # factory sees before the assessment (visibility.shape_milestones); the others their due.
    if milestone.code == ASSESSMENT_REPORT_RELEASE:
        return milestone.window_end or milestone.due
    return milestone.due or milestone.window_end


def alert_rows(cycle: Cycle, *, settled_before: date | None = None) -> list[dict[str, object]]:
    """The cycle's alert rows (pure). `settled_before`: rows whose moment is earlier are
    stored as already settled (`backfilled`)."""
    rows: list[dict[str, object]] = []
    for milestone in plan_of(cycle).milestones:
        due = _due(milestone)
        if milestone.skipped or due is None:
            continue
        late = milestone.window_end or due
        moments = {DUE_SOON: due - timedelta(days=DUE_SOON_DAYS), OVERDUE: late + timedelta(1)}
        for kind, fire_on in moments.items():
            settled = settled_before is not None and fire_on < settled_before
            rows.append(
                {
                    "id": new_id("mal"),
                    "cycle_id": cycle.id,
                    "milestone": milestone.code,
                    "kind": kind,
                    "due": due,
                    "fire_on": fire_on,
                    "sent_at": datetime.now(UTC) if settled else None,
                    "outcome": "backfilled" if settled else None,
                }
            )
    return rows


async def _insert(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        statement = insert_for(session)(MilestoneAlert).values(rows)
        await session.execute(statement.on_conflict_do_nothing())


async def plan_alerts(session: AsyncSession, cycle: Cycle) -> None:
    """In the transaction that opens the cycle."""
    await _insert(session, alert_rows(cycle))


async def plan_missing(
    sessionmaker: async_sessionmaker[AsyncSession], *, today: date, batch: int = BATCH
) -> int:
    """Rows for cycles that have none (opened before the scheduler existed)."""
    planned = 0
    while True:
        async with sessionmaker() as session:
            has_rows = sa.select(col(MilestoneAlert.cycle_id)).where(
                col(MilestoneAlert.cycle_id) == col(Cycle.id)
            )
            cycles = list(
                (
                    await session.scalars(
                        sa.select(Cycle)
                        .where(~sa.exists(has_rows))
                        .order_by(col(Cycle.id))
                        .limit(batch)
                    )
                ).all()
            )
            for cycle in cycles:
                await _insert(session, alert_rows(cycle, settled_before=today))
            await session.commit()
        planned += len(cycles)
        if len(cycles) < batch:
            return planned


def _payload(alert: MilestoneAlert, factory_id: str) -> EventData:
    fields = {
        "cycle_id": alert.cycle_id,
        "factory_id": factory_id,
        "milestone": alert.milestone,
        "due": alert.due,
    }
    if alert.kind == DUE_SOON:
        return events.MilestoneDueSoon(**fields)
    return events.MilestoneOverdue(**fields)


async def _tpa_holders(
    session: AsyncSession, reports: ReportsClient, alerts: Sequence[MilestoneAlert]
) -> dict[str, list[str] | None]:
    """The approved TPA holders of each factory whose alerts may reach buyers, asked of
    reports concurrently; None for a factory reports gave no answer for."""
    cycle_ids = {a.cycle_id for a in alerts if Audience.BUYER in _parties(a.milestone)}
    if not cycle_ids:
        return {}
    factories = sorted(
        set(
            (
                await session.scalars(
                    sa.select(col(Cycle.factory_id)).where(col(Cycle.id).in_(cycle_ids))
                )
            ).all()
        )
    )
    answers = await asyncio.gather(
        *(reports.tpa_holders(factory_id=f) for f in factories), return_exceptions=True
    )
    found: dict[str, list[str] | None] = {}
    for factory_id, answer in zip(factories, answers, strict=True):
        if isinstance(answer, ApiError):  # unreachable, or an error answer
            log.warning("no TPA holders of %s from reports: %s", factory_id, answer)
            found[factory_id] = None
        elif isinstance(answer, BaseException):
            raise answer
        else:
            found[factory_id] = answer
    return found


async def _settle(
    session: AsyncSession,
    alert: MilestoneAlert,
    *,
    today: date,
    holders: Mapping[str, list[str] | None],
) -> str | None:
    """The alert's outcome, recording its event when one is due; None: taken meanwhile;
    POSTPONED: its buyers are unknown (reports did not answer), so it stays unsent."""
    cycle = await store.get_cycle(session=session, cycle_id=alert.cycle_id)
    parties = _parties(alert.milestone)
    buyers: list[str] | None = []
    if cycle is not None and Audience.BUYER in parties:
        buyers = holders.get(cycle.factory_id)
    if buyers is None:
        return POSTPONED
    claimed = await session.execute(
        sa.update(MilestoneAlert)
        .where(col(MilestoneAlert.id) == alert.id, col(MilestoneAlert.sent_at).is_(None))
        .values(sent_at=datetime.now(UTC))
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    outcome = "not_needed"
    if cycle is not None:
        visits = await store.visits_of(session=session, cycle_id=cycle.id)
        states = milestone_states(
            plan_of(cycle),
            visits=[fact(v) for v in visits],
            released=cycle.released_documents,
            today=today,
        )
        state = next((s for s in states if s.code == alert.milestone), None)
        open_ = state is not None and state.status not in ("done", "skipped")
        if open_ and alert.kind == DUE_SOON and today > alert.due:
            outcome = "late"  # the overdue alert says it now
        elif open_:
            outcome = "sent"
            orgs = cycle_events.milestone_audience(
                cycle,
                milestone=alert.milestone,
                parties=parties,
                visits=visits,
                released=cycle.released_documents,
                buyers=buyers,
                today=today,
            )
            await cycle_events.milestone_alert(
                session, _payload(alert, cycle.factory_id), cycle, orgs=orgs
            )
    await session.execute(
        sa.update(MilestoneAlert).where(col(MilestoneAlert.id) == alert.id).values(outcome=outcome)
    )
    return outcome


async def send_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    reports: ReportsClient,
    *,
    today: date,
    batch: int = BATCH,
) -> int:
    """Send every alert due by `today`, a batch per transaction; how many events. `reports`
    names the TPA holders; when it does not answer for a factory, that factory's alerts
    that would reach buyers stay unsent and the round ends after the batch."""
    sent = 0
    while True:
        async with sessionmaker() as session:
            statement = (
                sa.select(MilestoneAlert)
                .where(col(MilestoneAlert.sent_at).is_(None), col(MilestoneAlert.fire_on) <= today)
                .order_by(col(MilestoneAlert.fire_on), col(MilestoneAlert.id))
                .limit(batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            alerts: Sequence[MilestoneAlert] = (await session.scalars(statement)).all()
            holders = await _tpa_holders(session, reports, alerts)
            outcomes = [
                await _settle(session, alert, today=today, holders=holders) for alert in alerts
            ]
            await session.commit()
        sent += outcomes.count("sent")
        if POSTPONED in outcomes:
            log.warning(
                "%d milestone alerts left for the next round: reports did not answer",
                outcomes.count(POSTPONED),
            )
            return sent
        if len(alerts) < batch:
            return sent


async def run_once(app: FastAPI, *, today: date | None = None) -> int:
    day = today or datetime.now(UTC).date()
    await plan_missing(app.state.sessionmaker, today=day)
    return await send_due(app.state.sessionmaker, reports_client(app), today=day)


async def start_scheduler(app: FastAPI) -> None:
    """Start-up hook: run the job every BW_SCHEDULER_SECONDS (off at 0)."""
    seconds = scheduler_seconds(app.state.settings)
    start_repeating(app, "alerts", lambda: run_once(app), interval=seconds)


async def stop_scheduler(app: FastAPI) -> None:
    await stop_repeating(app, "alerts")
