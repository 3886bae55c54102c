"""Endpoints for the cycles service (services/INTERNAL_API.md); service tokens only, never
routed by the gateway."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.reports import domain, store
from services.reports.api.deps import CycleNumber, existing
from services.reports.schemas import (
    InternalAccess,
    InternalAssessment,
    InternalCycleOpen,
    InternalCycleOpened,
    InternalDocument,
    InternalDocuments,
    InternalFinding,
    InternalPlanItems,
    InternalPlanItemsCreated,
    InternalTpaHolder,
    InternalTpaHolders,
    TpaStatus,
    shapes,
)
from services.reports.store import access as store_access
from services.reports.store import plan as store_plan
from shared.auth import Principal, ServiceCaller
from shared.clock import now
from shared.db import SessionDep
from shared.errors import NotFound
from shared.types import FactoryId, Id

router = APIRouter(prefix="/internal", tags=["internal"])


@router.post(
    "/report-cycles",
    status_code=201,
    responses=existing(InternalCycleOpened, "Open already."),
)
async def open_report_cycle_internal(
    body: InternalCycleOpen, service: ServiceCaller, session: SessionDep, response: Response
) -> InternalCycleOpened:
    """Open a report cycle when a service cycle starts (opening again returns it)."""
    cycle, created = await store.open_cycle(
        session=session,
        factory_id=body.factory_id,
        cycle=body.cycle,
        country=body.country,
        opened_by=service.user,
        now=now(),
    )
    if not created:
        response.status_code = 200
    return InternalCycleOpened.model_validate(cycle, from_attributes=True)


@router.get("/access")
async def get_access_internal(
    org: Id, factory_id: Id, service: ServiceCaller, session: SessionDep
) -> InternalAccess:
    """What an organisation holds on a factory: TPA status, unlocked and shared cycles."""
    tpa = await store_access.get_tpa(session=session, factory_id=factory_id, org=org)
    return InternalAccess(
        org=org,
        factory_id=factory_id,
        tpa_status=TpaStatus(tpa.status) if tpa else None,
        unlocked_cycles=await store_access.unlocked_cycles(
            session=session, org=org, factory_id=factory_id
        ),
        shared_cycles=await store_access.shared_cycles(
            session=session, org=org, factory_id=factory_id
        ),
    )


@router.get("/factories/{factory_id}/tpa-holders")
async def list_tpa_holders_internal(
    factory_id: FactoryId, service: ServiceCaller, session: SessionDep
) -> InternalTpaHolders:
    """Every buyer holding an approved TPA for the factory today (cycles sends them the
    factory's cycle events)."""
    holders = await store_access.tpa_holders(session=session, factory_id=factory_id)
    return InternalTpaHolders(
        factory_id=factory_id,
        holders=[InternalTpaHolder(org=org, role=role) for org, role in holders],
    )


@router.get("/factories/{factory_id}/cycles/{cycle}/documents")
async def list_documents_internal(
    factory_id: FactoryId, cycle: CycleNumber, service: ServiceCaller, session: SessionDep
) -> InternalDocuments:
    """The cycle's documents and their status (none when the cycle is not open)."""
    report_cycle = await store.get_cycle(session=session, factory_id=factory_id, cycle=cycle)
    documents = (
        await store.list_documents(session=session, cycle_id=report_cycle.id)
        if report_cycle
        else []
    )
    return InternalDocuments(
        factory_id=factory_id,
        cycle=cycle,
        documents=[InternalDocument.model_validate(d, from_attributes=True) for d in documents],
    )


@router.get("/factories/{factory_id}/cycles/{cycle}/assessment")
async def get_assessment_internal(
    factory_id: FactoryId, cycle: CycleNumber, service: ServiceCaller, session: SessionDep
) -> InternalAssessment:
    """The cycle's assessment findings once released (for differentiation)."""
    report_cycle = await store.get_cycle(session=session, factory_id=factory_id, cycle=cycle)
    assessment = (
        await store.assessment_of(session=session, cycle_id=report_cycle.id)
        if report_cycle
        else None
    )
    if assessment is None or assessment.status != "released":
        return InternalAssessment(
            factory_id=factory_id, cycle=cycle, released=False, released_at=None, findings=[]
        )
    findings = await store.findings_of(session=session, document_id=assessment.id)
    return InternalAssessment(
        factory_id=factory_id,
        cycle=cycle,
        released=True,
        released_at=assessment.released_at,
        findings=[InternalFinding.model_validate(f, from_attributes=True) for f in findings],
    )


@router.post("/factories/{factory_id}/cycles/{cycle}/improvement-plan/items", status_code=201)
async def create_plan_items_internal(
    factory_id: FactoryId,
    cycle: CycleNumber,
    body: InternalPlanItems,
    service: ServiceCaller,
    session: SessionDep,
) -> InternalPlanItemsCreated:
    """Add items to the cycle's live plan (seminar action plans)."""
    report_cycle = await store.get_cycle(session=session, factory_id=factory_id, cycle=cycle)
    if report_cycle is None:
        raise NotFound(f"Factory {factory_id!r} has no open report cycle {cycle}.")
    actor = Principal(user=service.user, org="betterwork", role="service")
    items = await store_plan.add_plan_items(
        session=session,
        cycle=report_cycle,
        items=[domain.NewPlanItem(**item.model_dump()) for item in body.items],
        actor=actor,
        now=now(),
    )
    history = await store_plan.history_of(session=session, item_ids=[item.id for item in items])
    return InternalPlanItemsCreated(items=[shapes.plan_item(i, history[i.id]) for i in items])
