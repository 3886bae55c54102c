"""The public transparency portal (no token): per factory its name, country and compliance
on the publicly reported issues of its latest released assessment, never a buyer and never
a non-public finding; and the progress documents the factory attaches to its page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.reports import domain
from services.reports.api.deps import FactoryMember
from services.reports.models import PublicFactory
from services.reports.schemas import (
    ProgressDocumentCreate,
    ProgressDocumentPublic,
    PublicFactoryDetail,
    PublicFactorySummary,
    PublicIssue,
    shapes,
)
from services.reports.store import portal as store_portal
from shared.clock import now
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound
from shared.pagination import Page, PageDep
from shared.types import FactoryId, Id

router = APIRouter(tags=["transparency portal"])

Country = Annotated[
    str | None,
    Query(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$", description="ISO alpha-2."),
]


def _summary(row: PublicFactory, compliance: domain.PublicCompliance) -> PublicFactorySummary:
    return PublicFactorySummary(
        factory_id=row.factory_id,
        name=row.name,
        country=row.country,
        latest_assessment_released_at=row.assessment_released_at,
        cycle=row.cycle,
        publicly_reported_issues=len(compliance.issues),
        non_compliant_issues=compliance.non_compliant,
    )


@router.get("/public/factories")
async def list_public_factories(
    session: SessionDep, page: PageDep, country: Country = None
) -> Page[PublicFactorySummary]:
    """Factories with a released assessment, with their public compliance figures."""
    rows, cursor = await store_portal.public_factories(session=session, page=page, country=country)
    findings = await store_portal.public_findings(
        session=session, document_ids=[row.assessment_id for row in rows]
    )
    return Page[PublicFactorySummary](
        items=[
            _summary(row, domain.public_compliance(findings[row.assessment_id])) for row in rows
        ],
        next_cursor=cursor,
    )


@router.get("/public/factories/{factory_id}")
async def get_public_factory(factory_id: FactoryId, session: SessionDep) -> PublicFactoryDetail:
    """One factory's page: latest public compliance and its progress documents."""
    row = await store_portal.public_factory(session=session, factory_id=factory_id)
    if row is None:
        raise NotFound(f"The transparency portal has no released assessment of {factory_id!r}.")
    findings = await store_portal.public_findings(session=session, document_ids=[row.assessment_id])
    compliance = domain.public_compliance(findings[row.assessment_id])
    documents = await store_portal.progress_documents(session=session, factory_id=factory_id)
    return PublicFactoryDetail(
        **_summary(row, compliance).model_dump(),
        issues=[
            PublicIssue(cluster=i.cluster, question=i.question, compliant=i.compliant)
            for i in compliance.issues
        ],
        progress_documents=[shapes.progress_document(d) for d in documents],
    )


@router.post("/factories/{factory_id}/progress-documents", status_code=201)
async def create_progress_document(
    factory_id: FactoryId, body: ProgressDocumentCreate, caller: FactoryMember, session: SessionDep
) -> ProgressDocumentPublic:
    """The factory attaches a progress document (title, note, link) to its portal page."""
    if factory_id != caller.org:
        raise Forbidden("A factory attaches progress documents to its own page only.")
    row = await store_portal.add_progress_document(
        session=session,
        factory_id=factory_id,
        title=body.title,
        note=body.note,
        link=str(body.link),
        author=caller.principal,
        now=now(),
    )
    return shapes.progress_document(row)


@router.delete("/progress-documents/{document_id}", status_code=204)
async def delete_progress_document(
    document_id: Id, caller: FactoryMember, session: SessionDep
) -> Response:
    """The factory removes one of its progress documents from its portal page."""
    row = await store_portal.progress_document(session=session, document_id=document_id)
    if row is None or row.factory_id != caller.org:
        raise NotFound("There is no such progress document on your page.")
    await store_portal.delete_progress_document(session=session, document_id=document_id)
    return Response(status_code=204)
