"""Database queries of the live improvement plan: its items and their history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.reports import events
from services.reports.domain import NewPlanItem
from services.reports.models import PlanItem, PlanItemEvent, ReportCycle
from shared.auth import Principal
from shared.ids import new_id

__all__ = ["add_plan_items", "history_of", "plan_items", "update_plan_item"]


def _event(
    item_id: str, action: str, actor: Principal, changes: dict[str, Any], now: datetime
) -> PlanItemEvent:
    return PlanItemEvent(
        id=new_id("pie"),
        item_id=item_id,
        action=action,
        actor_org=actor.org,
        actor_role=actor.role,
        changes=json.dumps(changes, default=str),
        at=now,
    )


async def add_plan_items(
    *,
    session: AsyncSession,
    cycle: ReportCycle,
    items: Iterable[NewPlanItem],
    actor: Principal,
    now: datetime,
) -> list[PlanItem]:
    rows: list[PlanItem] = []
    for item in items:
        row = PlanItem(
            id=new_id("ipi"),
            report_cycle_id=cycle.id,
            factory_id=cycle.factory_id,
            cycle=cycle.cycle,
            source=item.source,
            title=item.title,
            detail=item.detail,
            owner=item.owner,
            due_date=item.due_date,
            status=item.status,
            finding_id=item.finding_id,
            created_at=now,
            updated_at=now,
        )
        rows.append(row)
        session.add(row)
        session.add(_event(row.id, "created", actor, {}, now))
    await session.flush()
    await events.plan_items_changed(session, rows, cycle, "created")
    return rows


async def update_plan_item(
    *,
    session: AsyncSession,
    item: PlanItem,
    changes: dict[str, list[Any]],
    values: dict[str, Any],
    actor: Principal,
    now: datetime,
) -> None:
    if not changes:
        return
    for field, value in values.items():
        setattr(item, field, value)
    item.updated_at = now
    session.add(_event(item.id, "updated", actor, changes, now))
    await session.flush()
    if {"status", "due_date"} & set(changes):  # what the portfolio's overdue count reads
        cycle = await session.get(ReportCycle, item.report_cycle_id)
        if cycle is not None:
            await events.plan_items_changed(session, [item], cycle, "updated")


async def plan_items(*, session: AsyncSession, cycle_id: str) -> list[PlanItem]:
    statement = (
        select(PlanItem)
        .where(col(PlanItem.report_cycle_id) == cycle_id)
        .order_by(col(PlanItem.created_at), col(PlanItem.id))
    )
    return list((await session.execute(statement)).scalars().all())


async def history_of(
    *, session: AsyncSession, item_ids: Sequence[str]
) -> dict[str, list[PlanItemEvent]]:
    history: dict[str, list[PlanItemEvent]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return history
    statement = (
        select(PlanItemEvent)
        .where(col(PlanItemEvent.item_id).in_(item_ids))
        .order_by(col(PlanItemEvent.at), col(PlanItemEvent.id))
    )
    for event in (await session.execute(statement)).scalars().all():
        history[event.item_id].append(event)
    return history
