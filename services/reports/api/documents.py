"""Report documents: drafts by their authors, release by advisors, reading by whoever may
read the cycle (drafts: advisors, and the factory its own progress report 1)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from services.reports import domain, events, exports, store
from services.reports.api.deps import (
    Advisor,
    AnyMember,
    CycleNumber,
    FactoryMember,
    FactoryOrAdvisor,
    page_of,
    problems,
    readable_cycle,
    visible_document,
)
from services.reports.api.replies import report_reply
from services.reports.clients import EligibilityClient, EligibilityDep
from services.reports.domain.access import Caller, can_draft, can_read, document_visible, enforce
from services.reports.models import ReportCycle, ReportDocument
from services.reports.schemas import (
    DocumentKind,
    NotificationKind,
    ReportCreate,
    ReportPublic,
    ReportSummary,
    ReportUpdate,
    shapes,
)
from services.reports.store import access as store_access
from services.reports.store import members as store_members
from services.reports.store import plan as store_plan
from services.reports.store import portal as store_portal
from services.reports.store.settled import Settled, SettledDep
from shared.clock import now
from shared.db import SessionDep
from shared.errors import Conflict, Unavailable
from shared.pagination import Page, PageDep, SortKey
from shared.pdf import pdf_alternative, pdf_reply, pdf_responses, render, wants_pdf
from shared.types import FactoryId, Id

router = APIRouter(tags=["reports"])

KIND_NAMES = {
    DocumentKind.ASSESSMENT: "assessment report",
    DocumentKind.PROGRESS_REPORT_1: "progress report 1",
    DocumentKind.PROGRESS_REPORT_2: "progress report 2",
    DocumentKind.ADVISORY_LOG: "advisory log entry",
}


@router.post(
    "/factories/{factory_id}/cycles/{cycle}/reports", status_code=201, responses=problems(409)
)
async def create_report(
    factory_id: FactoryId,
    cycle: CycleNumber,
    body: ReportCreate,
    caller: FactoryOrAdvisor,
    session: SessionDep,
    settled: SettledDep,
) -> ReportPublic:
    """Create a draft: advisors the assessment, PR2 and advisory log; the factory its PR1."""
    report_cycle = await readable_cycle(
        session, caller, factory_id=factory_id, cycle=cycle, settled=settled
    )
    enforce(can_draft(caller.principal, report_cycle, body.kind))
    domain.check_draft(
        kind=body.kind,
        has_findings=bool(body.findings),
        existing_kinds=await store.document_kinds(session=session, cycle_id=report_cycle.id),
    )
    document = await store.add_document(
        session=session,
        cycle=report_cycle,
        kind=body.kind,
        title=body.title,
        body=body.body,
        author=caller.principal,
        now=now(),
    )
    if body.kind is DocumentKind.ASSESSMENT:
        await store.replace_findings(
            session=session, document_id=document.id, findings=body.findings or []
        )
    return await report_reply(session, document=document, cycle=report_cycle, settled=settled)


@router.get("/factories/{factory_id}/cycles/{cycle}/reports")
async def list_reports(
    factory_id: FactoryId,
    cycle: CycleNumber,
    caller: AnyMember,
    session: SessionDep,
    settled: SettledDep,
    page: PageDep,
) -> Page[ReportSummary]:
    """The cycle's documents the caller may see: released ones (and drafts for their authors)."""
    report_cycle = await readable_cycle(
        session, caller, factory_id=factory_id, cycle=cycle, settled=settled
    )
    visible = [
        shapes.report_summary(document)
        for document in await store.list_documents(session=session, cycle_id=report_cycle.id)
        if document_visible(caller.principal, document)
    ]
    return page_of(visible, page, key=SortKey(type=str), value=lambda summary: summary.id)


@router.get(
    "/reports/{report_id}",
    response_model=ReportPublic,
    responses=pdf_alternative("The document as JSON or, with `Accept: application/pdf`, as a PDF."),
)
async def get_report(
    report_id: Id,
    request: Request,
    caller: AnyMember,
    session: SessionDep,
    settled: SettledDep,
    eligibility: EligibilityDep,
) -> Response:
    """One document, with its findings when it is an assessment report.

    With `Accept: application/pdf` the same document as a PDF (as `GET
    /reports/{report_id}/report.pdf`), under the same access rules."""
    if wants_pdf(request):
        return await _pdf(report_id, caller, session, settled, eligibility)
    kept = settled.released(report_id)
    if kept is not None:
        # The hot path: a released document read on facts that never turn false, its JSON
        # rendered once. What these facts do not allow is decided again below on the
        # database's full facts.
        unlock = settled.unlock(kept.cycle.id, caller.org)
        decision = can_read(caller.principal, kept.cycle, None, unlock, None, caller.membership)
        if decision.allowed and document_visible(caller.principal, kept.document):
            return Response(kept.body, media_type="application/json")
    document, cycle = await visible_document(
        session, caller, document_id=report_id, settled=settled
    )
    reply = await report_reply(session, document=document, cycle=cycle, settled=settled, keep=True)
    return Response(reply.model_dump_json().encode(), media_type="application/json")


@router.get(
    "/reports/{report_id}/report.pdf",
    response_class=Response,
    responses=pdf_responses(
        "The document as a PDF: its fields, body and findings, the factory's name; no other date "
        "than its release."
    ),
)
async def download_report(
    report_id: Id,
    caller: AnyMember,
    session: SessionDep,
    settled: SettledDep,
    eligibility: EligibilityDep,
) -> Response:
    """One document as a PDF, for whoever may read its JSON (`GET /reports/{report_id}`)."""
    return await _pdf(report_id, caller, session, settled, eligibility)


async def _pdf(
    report_id: str,
    caller: Caller,
    session: AsyncSession,
    settled: Settled,
    eligibility: EligibilityClient,
) -> Response:
    """The JSON reply's facts, read under the JSON's access decision, drawn as a PDF."""
    document, cycle = await visible_document(
        session, caller, document_id=report_id, settled=settled
    )
    reply = await report_reply(session, document=document, cycle=cycle, settled=settled, keep=True)
    try:
        factory = await eligibility.factory(cycle.factory_id)
    except Unavailable:
        factory = None  # the registry is away: the id still names the factory
    sheet = exports.report_sheet(
        reply, factory_name=factory.name if factory else cycle.factory_id, country=cycle.country
    )
    return pdf_reply(await run_in_threadpool(render, sheet), filename=exports.filename(reply))


@router.patch("/reports/{report_id}", responses=problems(409))
async def update_report(
    report_id: Id,
    body: ReportUpdate,
    caller: FactoryOrAdvisor,
    session: SessionDep,
    settled: SettledDep,
) -> ReportPublic:
    """Change a draft (its author's role only; released or submitted documents are final)."""
    document, cycle = await visible_document(
        session, caller, document_id=report_id, settled=settled, for_update=True
    )
    enforce(can_draft(caller.principal, cycle, document.kind))
    domain.check_editable(document, has_findings=body.findings is not None)
    if body.title is not None:
        document.title = body.title
    if "body" in body.model_fields_set:
        document.body = body.body
    document.updated_at = now()
    if body.findings is not None:
        await store.replace_findings(
            session=session, document_id=document.id, findings=body.findings
        )
    await session.flush()
    return await report_reply(session, document=document, cycle=cycle, settled=settled)


@router.post("/reports/{report_id}/submit", responses=problems(409))
async def submit_report(
    report_id: Id, caller: FactoryMember, session: SessionDep, settled: SettledDep
) -> ReportPublic:
    """The factory hands its progress report 1 to Better Work (submitting again is a no-op)."""
    document, cycle = await visible_document(
        session, caller, document_id=report_id, settled=settled, for_update=True
    )
    enforce(can_draft(caller.principal, cycle, document.kind))
    if document.status != "draft":
        raise Conflict("This progress report is released already.")
    if document.submitted_at is None:
        document.submitted_at = document.updated_at = now()
        await session.flush()
    return await report_reply(session, document=document, cycle=cycle, settled=settled)


@router.post("/reports/{report_id}/release", responses=problems(409))
async def release_report(
    report_id: Id,
    caller: Advisor,
    session: SessionDep,
    settled: SettledDep,
    eligibility: EligibilityDep,
) -> ReportPublic:
    """Release a draft: visible to the factory and to buyers with access (again: no-op)."""
    document, cycle = await visible_document(
        session, caller, document_id=report_id, settled=settled, for_update=True
    )
    if not domain.check_releasable(document):
        return await report_reply(session, document=document, cycle=cycle, settled=settled)
    moment = now()
    document.status, document.released_at, document.updated_at = "released", moment, moment
    await session.flush()
    if document.kind == DocumentKind.ASSESSMENT:
        await _on_assessment_released(session, caller, document, cycle, eligibility)
    await events.report_released(session, document, cycle)
    await store_members.notify(
        session=session,
        orgs=await store_access.readers_of_cycle(session=session, cycle=cycle),
        kind=NotificationKind.DOCUMENT_RELEASED,
        message=(
            f"The {KIND_NAMES[DocumentKind(document.kind)]} of factory {cycle.factory_id}, "
            f"cycle {cycle.cycle}, is released: {document.title}"
        )[:1000],
        factory_id=cycle.factory_id,
        cycle=cycle.cycle,
        subject_id=document.id,
        now=moment,
    )
    return await report_reply(session, document=document, cycle=cycle, settled=settled)


async def _on_assessment_released(
    session: AsyncSession,
    caller: Caller,
    document: ReportDocument,
    cycle: ReportCycle,
    eligibility: EligibilityClient,
) -> None:
    """Its non-compliances join the live plan; the portal shows it if it is the newest."""
    findings = await store.findings_of(session=session, document_id=document.id)
    await store_plan.add_plan_items(
        session=session,
        cycle=cycle,
        items=domain.plan_items_from_findings(findings),
        actor=caller.principal,
        now=now(),
    )
    shown = await store_portal.public_factory(session=session, factory_id=cycle.factory_id)
    if not domain.is_newer_assessment(
        shown_cycle=None if shown is None else shown.cycle, released_cycle=cycle.cycle
    ):
        return
    factory = await eligibility.factory(cycle.factory_id)
    name = factory.name if factory else (shown.name if shown else cycle.factory_id)
    country = factory.country if factory else cycle.country
    await store_portal.publish_assessment(
        session=session, document=document, name=name, country=country
    )
