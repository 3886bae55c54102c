"""The live improvement plan of a report cycle: the factory and advisors edit it, buyers
with access read it; every change is kept in the item's history."""

from __future__ import annotations

from fastapi import APIRouter

from services.reports import domain, store
from services.reports.api.deps import (
    AnyMember,
    CycleNumber,
    FactoryOrAdvisor,
    readable_cycle,
)
from services.reports.domain.access import can_edit_plan, can_read, enforce
from services.reports.schemas import (
    ImprovementPlan,
    PlanItemCreate,
    PlanItemPublic,
    PlanItemUpdate,
    shapes,
)
from services.reports.store import plan as store_plan
from services.reports.store.settled import SettledDep
from shared.clock import now
from shared.db import SessionDep
from shared.errors import NotFound
from shared.types import FactoryId, Id

router = APIRouter(tags=["improvement plan"])


@router.get("/factories/{factory_id}/cycles/{cycle}/improvement-plan")
async def get_improvement_plan(
    factory_id: FactoryId,
    cycle: CycleNumber,
    caller: AnyMember,
    session: SessionDep,
    settled: SettledDep,
) -> ImprovementPlan:
    """The cycle's live improvement plan, each item with its history."""
    report_cycle = await readable_cycle(
        session, caller, factory_id=factory_id, cycle=cycle, settled=settled
    )
    items = await store_plan.plan_items(session=session, cycle_id=report_cycle.id)
    history = await store_plan.history_of(session=session, item_ids=[item.id for item in items])
    return ImprovementPlan(
        factory_id=report_cycle.factory_id,
        cycle=report_cycle.cycle,
        items=[shapes.plan_item(item, history[item.id]) for item in items],
    )


@router.post("/factories/{factory_id}/cycles/{cycle}/improvement-plan/items", status_code=201)
async def create_plan_item(
    factory_id: FactoryId,
    cycle: CycleNumber,
    body: PlanItemCreate,
    caller: FactoryOrAdvisor,
    session: SessionDep,
    settled: SettledDep,
) -> PlanItemPublic:
    """Add an item (self-diagnosis, advisory or other) to the live plan."""
    report_cycle = await readable_cycle(
        session, caller, factory_id=factory_id, cycle=cycle, settled=settled
    )
    enforce(can_edit_plan(caller.principal, report_cycle))
    [item] = await store_plan.add_plan_items(
        session=session,
        cycle=report_cycle,
        items=[domain.NewPlanItem(**body.model_dump())],
        actor=caller.principal,
        now=now(),
    )
    history = await store_plan.history_of(session=session, item_ids=[item.id])
    return shapes.plan_item(item, history[item.id])


@router.patch("/improvement-plan-items/{item_id}")
async def update_plan_item(
    item_id: Id, body: PlanItemUpdate, caller: FactoryOrAdvisor, session: SessionDep
) -> PlanItemPublic:
    """Change an item's owner, due date, status, title or detail (recorded in its history)."""
    found = await store.plan_item_with_facts(session=session, item_id=item_id, org=caller.org)
    if found is None:
        raise NotFound("There is no such improvement plan item (or you may not see it).")
    item, cycle, facts = found
    enforce(
        can_read(caller.principal, cycle, facts.tpa, facts.unlock, facts.share, caller.membership)
    )
    enforce(can_edit_plan(caller.principal, cycle))
    values = body.model_dump(exclude_unset=True)
    for required in ("title", "status"):  # these cannot be emptied, only changed
        if values.get(required, "") is None:
            values.pop(required)
    current = {field: getattr(item, field) for field in values}
    await store_plan.update_plan_item(
        session=session,
        item=item,
        changes=domain.plan_changes(current, values),
        values=values,
        actor=caller.principal,
        now=now(),
    )
    history = await store_plan.history_of(session=session, item_ids=[item.id])
    return shapes.plan_item(item, history[item.id])
