"""Finding a cycle or a document and applying the access decision to it: the first lines
of most routes. What the database says about the caller's access is also noted in the
process's settled facts when it can never change again (an active unlock)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import store
from services.reports.access import Caller, can_read, document_visible, enforce
from services.reports.models import ReportCycle, ReportDocument
from services.reports.settled import Settled
from services.reports.store import Facts
from shared.errors import NotFound

__all__ = ["readable_cycle", "visible_document"]

NO_SUCH_REPORT = "There is no such report (or you may not see it)."


def _decide(caller: Caller, cycle: ReportCycle, facts: Facts, settled: Settled) -> None:
    enforce(
        can_read(caller.principal, cycle, facts.tpa, facts.unlock, facts.share, caller.membership)
    )
    if facts.unlock is not None:
        settled.remember_unlock(
            report_cycle_id=facts.unlock.report_cycle_id,
            buyer_org=facts.unlock.buyer_org,
            status=facts.unlock.status,
        )


async def readable_cycle(
    session: AsyncSession, caller: Caller, *, factory_id: str, cycle: int, settled: Settled
) -> ReportCycle:
    found = await store.cycle_with_facts(
        session, factory_id=factory_id, cycle=cycle, org=caller.org
    )
    if found is None:
        raise NotFound("There is no such report cycle (or you may not see it).")
    report_cycle, facts = found
    _decide(caller, report_cycle, facts, settled)
    return report_cycle


async def visible_document(
    session: AsyncSession,
    caller: Caller,
    *,
    document_id: str,
    settled: Settled,
    for_update: bool = False,
) -> tuple[ReportDocument, ReportCycle]:
    found = await store.document_with_facts(
        session, document_id=document_id, org=caller.org, for_update=for_update
    )
    if found is None:
        raise NotFound(NO_SUCH_REPORT)
    document, cycle, facts = found
    _decide(caller, cycle, facts, settled)
    if not document_visible(caller.principal, document):
        raise NotFound(NO_SUCH_REPORT)
    return document, cycle
