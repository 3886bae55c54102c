"""A document's reply, findings included; a released one is kept (with its cycle) in the
process's settled facts, since released documents never change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import store
from services.reports.models import ReportCycle, ReportDocument
from services.reports.schemas import DocumentKind, DocumentStatus, ReportPublic, shapes
from services.reports.store.settled import KeptCycle, KeptDocument, Settled

__all__ = ["report_reply"]


async def report_reply(
    session: AsyncSession,
    *,
    document: ReportDocument,
    cycle: ReportCycle,
    settled: Settled,
    keep: bool = False,
) -> ReportPublic:
    """`keep` only when `document` was read as committed: a route that changes it may still
    roll back, and a kept fact must never be one that did not happen."""
    released = document.status == DocumentStatus.RELEASED
    if released and (kept := settled.released(document.id)) is not None:
        return kept.reply
    findings = None
    if document.kind == DocumentKind.ASSESSMENT:
        findings = await store.findings_of(session=session, document_id=document.id)
    reply = shapes.report(document, findings)
    if released and keep:
        settled.remember_released(
            document=KeptDocument(document.id, document.factory_id, document.kind, document.status),
            cycle=KeptCycle(cycle.id, cycle.factory_id, cycle.country, cycle.cycle),
            reply=reply,
        )
    return reply
