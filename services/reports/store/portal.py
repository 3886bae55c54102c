"""Database queries of the public transparency portal and zero-tolerance alerts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.reports.models import (
    AssessmentFinding,
    ProgressDocument,
    PublicFactory,
    ReportDocument,
    ZeroToleranceAlert,
)
from services.reports.store import Listing
from shared.auth import Principal
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "add_alert",
    "add_progress_document",
    "delete_progress_document",
    "progress_document",
    "progress_documents",
    "public_factories",
    "public_factory",
    "public_findings",
    "publish_assessment",
]


async def public_factory(*, session: AsyncSession, factory_id: str) -> PublicFactory | None:
    return await session.get(PublicFactory, factory_id, populate_existing=True)


async def publish_assessment(
    *, session: AsyncSession, document: ReportDocument, name: str, country: str
) -> None:
    """Show this released assessment on the portal (the caller decided it is the newest)."""
    assert document.released_at is not None
    row = await session.get(PublicFactory, document.factory_id, with_for_update=True)
    if row is None:
        session.add(
            PublicFactory(
                factory_id=document.factory_id,
                name=name,
                country=country.upper(),
                assessment_id=document.id,
                cycle=document.cycle,
                assessment_released_at=document.released_at,
            )
        )
    else:
        row.name, row.country = name, country.upper()
        row.assessment_id, row.cycle = document.id, document.cycle
        row.assessment_released_at = document.released_at
    await session.flush()


async def public_factories(
    *, session: AsyncSession, page: PageParams, country: str | None = None
) -> Listing:
    statement = select(PublicFactory)
    if country is not None:
        statement = statement.where(col(PublicFactory.country) == country.upper())
    return await paginate(session, statement, page, key=[sort_key(PublicFactory.factory_id, str)])


async def public_findings(
    *, session: AsyncSession, document_ids: list[str]
) -> dict[str, list[AssessmentFinding]]:
    """The publicly reported findings of these assessments, by document id. The filter is
    in the query so a non-public finding never even reaches the portal's code."""
    found: dict[str, list[AssessmentFinding]] = {doc_id: [] for doc_id in document_ids}
    if not document_ids:
        return found
    statement = (
        select(AssessmentFinding)
        .where(
            col(AssessmentFinding.document_id).in_(document_ids),
            col(AssessmentFinding.publicly_reported).is_(True),
        )
        .order_by(col(AssessmentFinding.document_id), col(AssessmentFinding.ordinal))
    )
    for finding in (await session.execute(statement)).scalars().all():
        found[finding.document_id].append(finding)
    return found


async def add_progress_document(
    *,
    session: AsyncSession,
    factory_id: str,
    title: str,
    note: str | None,
    link: str,
    author: Principal,
    now: datetime,
) -> ProgressDocument:
    row = ProgressDocument(
        id=new_id("pdc"),
        factory_id=factory_id,
        title=title,
        note=note,
        link=link,
        created_by=author.user,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def progress_documents(*, session: AsyncSession, factory_id: str) -> list[ProgressDocument]:
    statement = (
        select(ProgressDocument)
        .where(col(ProgressDocument.factory_id) == factory_id)
        .order_by(col(ProgressDocument.id))
    )
    return list((await session.execute(statement)).scalars().all())


async def progress_document(*, session: AsyncSession, document_id: str) -> ProgressDocument | None:
    return await session.get(ProgressDocument, document_id)


async def delete_progress_document(*, session: AsyncSession, document_id: str) -> None:
    await session.execute(
        sa.delete(ProgressDocument).where(col(ProgressDocument.id) == document_id)
    )


async def add_alert(
    *,
    session: AsyncSession,
    factory_id: str,
    summary: str,
    raised_by: Principal,
    notified_partners: int,
    now: datetime,
) -> ZeroToleranceAlert:
    row = ZeroToleranceAlert(
        id=new_id("zta"),
        factory_id=factory_id,
        summary=summary,
        raised_by=raised_by.user,
        raised_at=now,
        notified_partners=notified_partners,
    )
    session.add(row)
    await session.flush()
    return row
