"""Finding a cycle, document or plan item and applying the access decision to it: the
first lines of most routes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import store
from services.reports.access import Caller, can_read, document_visible, enforce
from services.reports.models import ReportCycle, ReportDocument
from shared.errors import NotFound

__all__ = ["readable_cycle", "visible_document"]

NO_SUCH_REPORT = "There is no such report (or you may not see it)."


async def readable_cycle(
    session: AsyncSession, caller: Caller, factory_id: str, cycle_number: int
) -> ReportCycle:
    found = await store.cycle_with_facts(
        session, factory_id=factory_id, cycle=cycle_number, org=caller.org
    )
    if found is None:
        raise NotFound("There is no such report cycle (or you may not see it).")
    cycle, facts = found
    enforce(
        can_read(caller.principal, cycle, facts.tpa, facts.unlock, facts.share, caller.membership)
    )
    return cycle


async def visible_document(
    session: AsyncSession, caller: Caller, document_id: str, *, for_update: bool = False
) -> tuple[ReportDocument, ReportCycle]:
    found = await store.document_with_facts(
        session, document_id=document_id, org=caller.org, for_update=for_update
    )
    if found is None:
        raise NotFound(NO_SUCH_REPORT)
    document, cycle, facts = found
    enforce(
        can_read(caller.principal, cycle, facts.tpa, facts.unlock, facts.share, caller.membership)
    )
    if not document_visible(caller.principal, document):
        raise NotFound(NO_SUCH_REPORT)
    return document, cycle
