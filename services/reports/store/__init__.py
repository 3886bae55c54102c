"""Database queries of the reports service: report cycles, documents and their findings,
improvement plans, and the access facts a decision reads. Session in, rows out; nothing
here commits (the request's session dependency does).

The improvement plan is in `store/plan.py`; third-party access, unlocks and shares in
`store/access.py`; memberships and notifications in `store/members.py`; the transparency
portal in `store/portal.py`; facts that never change again, kept in the process, in
`store/settled.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from services.reports.models import (
    AccessRequest,
    AssessmentFinding,
    PlanItem,
    ReportCycle,
    ReportDocument,
    ReportShare,
    Unlock,
)
from services.reports.schemas import FindingIn
from shared.auth import Principal
from shared.errors import Conflict
from shared.ids import new_id

ModelT = TypeVar("ModelT", bound=SQLModel)
Listing = tuple[list[Any], str | None]  # a page of rows and the next cursor

__all__ = [
    "Facts",
    "Listing",
    "add_document",
    "assessment_of",
    "cycle_with_facts",
    "document_kinds",
    "document_with_facts",
    "findings_of",
    "get_cycle",
    "insert_ignoring_conflict",
    "insert_returning_unless_conflict",
    "list_cycles_with_facts",
    "list_documents",
    "open_cycle",
    "plan_item_with_facts",
    "replace_findings",
]


def _insert_ignoring_conflict(
    *, session: AsyncSession, model: type[SQLModel], on: Sequence[str]
) -> Any:
    """The statement on the model's table, values bound at execution: one compiled statement
    for every call (the ORM's `insert(Model).values(...)` is built and hashed each time)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    return insert(table).on_conflict_do_nothing(index_elements=list(on))


async def insert_ignoring_conflict(
    *, session: AsyncSession, model: type[SQLModel], values: dict[str, Any], on: Sequence[str]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted. Unlike catching an
    IntegrityError, it leaves the transaction usable (and on PostgreSQL it waits for a
    concurrent insert of the same key to commit or roll back, so the loser sees the winner)."""
    result = await session.execute(
        _insert_ignoring_conflict(session=session, model=model, on=on), values
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def insert_returning_unless_conflict(
    *, session: AsyncSession, model: type[ModelT], values: dict[str, Any], on: Sequence[str]
) -> ModelT | None:
    """The same in one round trip with the new row back (not attached to the session): None
    when the key was taken."""
    table = model.__table__  # type: ignore[attr-defined]
    statement = _insert_ignoring_conflict(session=session, model=model, on=on).returning(
        *table.columns
    )
    row = (await session.execute(statement, values)).first()
    return None if row is None else model(**row._mapping)


@dataclass(frozen=True, slots=True)
class Facts:
    """The caller organisation's access rows for one cycle (see `access.can_read`)."""

    tpa: AccessRequest | None = None
    unlock: Unlock | None = None
    share: ReportShare | None = None


# The queries behind every access decision are built once, with bound parameters: building
# a statement and its cache key costs more than running it on the hot paths.
_ORG: sa.BindParameter[str] = sa.bindparam("org")


def _with_facts(statement: Any) -> Any:
    """Outer-join the caller's TPA, unlock and received share onto a select of ReportCycle."""
    return (
        statement.outerjoin(
            AccessRequest,
            sa.and_(
                col(AccessRequest.factory_id) == col(ReportCycle.factory_id),
                col(AccessRequest.buyer_org) == _ORG,
            ),
        )
        .outerjoin(
            Unlock,
            sa.and_(
                col(Unlock.report_cycle_id) == col(ReportCycle.id), col(Unlock.buyer_org) == _ORG
            ),
        )
        .outerjoin(
            ReportShare,
            sa.and_(
                col(ReportShare.report_cycle_id) == col(ReportCycle.id),
                col(ReportShare.with_org) == _ORG,
            ),
        )
    )


_CYCLE_WITH_FACTS = _with_facts(
    sa.select(ReportCycle, AccessRequest, Unlock, ReportShare)
    .where(
        col(ReportCycle.factory_id) == sa.bindparam("factory_id"),
        col(ReportCycle.cycle) == sa.bindparam("cycle"),
    )
    .limit(1)
)
_CYCLES_WITH_FACTS = _with_facts(
    sa.select(ReportCycle, AccessRequest, Unlock, ReportShare)
    .where(col(ReportCycle.factory_id) == sa.bindparam("factory_id"))
    .order_by(col(ReportCycle.cycle), col(ReportShare.id))
)
_DOCUMENT = (
    sa.select(ReportDocument, ReportCycle, AccessRequest, Unlock, ReportShare)
    .join(ReportCycle, col(ReportCycle.id) == col(ReportDocument.report_cycle_id))
    .where(col(ReportDocument.id) == sa.bindparam("document_id"))
    .limit(1)
)
_DOCUMENT_WITH_FACTS = _with_facts(_DOCUMENT)
# Edits and releases of one document happen one after the other.
_DOCUMENT_WITH_FACTS_LOCKED = _with_facts(_DOCUMENT.with_for_update(of=ReportDocument))
_PLAN_ITEM_WITH_FACTS = _with_facts(
    sa.select(PlanItem, ReportCycle, AccessRequest, Unlock, ReportShare)
    .join(ReportCycle, col(ReportCycle.id) == col(PlanItem.report_cycle_id))
    .where(col(PlanItem.id) == sa.bindparam("item_id"))
    .limit(1)
    .with_for_update(of=PlanItem)  # two edits at once: history in order, none lost
)


async def cycle_with_facts(
    *, session: AsyncSession, factory_id: str, cycle: int, org: str
) -> tuple[ReportCycle, Facts] | None:
    """One round trip: the cycle and what the caller's organisation holds on it."""
    params = {"factory_id": factory_id, "cycle": cycle, "org": org}
    row = (await session.execute(_CYCLE_WITH_FACTS, params)).first()
    if row is None:
        return None
    return row[0], Facts(row[1], row[2], row[3])


async def list_cycles_with_facts(
    *, session: AsyncSession, factory_id: str, org: str
) -> list[tuple[ReportCycle, Facts]]:
    params = {"factory_id": factory_id, "org": org}
    seen: dict[str, tuple[ReportCycle, Facts]] = {}
    for cycle, tpa, unlock, share in (await session.execute(_CYCLES_WITH_FACTS, params)).all():
        seen.setdefault(cycle.id, (cycle, Facts(tpa, unlock, share)))
    return list(seen.values())


async def document_with_facts(
    *, session: AsyncSession, document_id: str, org: str, for_update: bool = False
) -> tuple[ReportDocument, ReportCycle, Facts] | None:
    """The document, its cycle and the caller's facts; `for_update` locks the document."""
    statement = _DOCUMENT_WITH_FACTS_LOCKED if for_update else _DOCUMENT_WITH_FACTS
    params = {"document_id": document_id, "org": org}
    row = (await session.execute(statement, params)).first()
    if row is None:
        return None
    return row[0], row[1], Facts(row[2], row[3], row[4])


async def plan_item_with_facts(
    *, session: AsyncSession, item_id: str, org: str
) -> tuple[PlanItem, ReportCycle, Facts] | None:
    params = {"item_id": item_id, "org": org}
    row = (await session.execute(_PLAN_ITEM_WITH_FACTS, params)).first()
    if row is None:
        return None
    return row[0], row[1], Facts(row[2], row[3], row[4])


async def get_cycle(*, session: AsyncSession, factory_id: str, cycle: int) -> ReportCycle | None:
    statement = select(ReportCycle).where(
        col(ReportCycle.factory_id) == factory_id, col(ReportCycle.cycle) == cycle
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def open_cycle(
    *,
    session: AsyncSession,
    factory_id: str,
    cycle: int,
    country: str,
    opened_by: str,
    now: datetime,
) -> tuple[ReportCycle, bool]:
    """Open the cycle, or find it open already: (cycle, True when opened now)."""
    created = await insert_ignoring_conflict(
        session=session,
        model=ReportCycle,
        values={
            "id": new_id("rcy"),
            "factory_id": factory_id,
            "cycle": cycle,
            "country": country.upper(),
            "opened_by": opened_by,
            "opened_at": now,
        },
        on=["factory_id", "cycle"],
    )
    found = await get_cycle(session=session, factory_id=factory_id, cycle=cycle)
    assert found is not None
    return found, created


# --- documents ---------------------------------------------------------------------------


async def document_kinds(*, session: AsyncSession, cycle_id: str) -> list[str]:
    statement = select(ReportDocument.kind).where(col(ReportDocument.report_cycle_id) == cycle_id)
    return list((await session.execute(statement)).scalars().all())


async def list_documents(*, session: AsyncSession, cycle_id: str) -> list[ReportDocument]:
    statement = (
        select(ReportDocument)
        .where(col(ReportDocument.report_cycle_id) == cycle_id)
        .order_by(col(ReportDocument.id))
    )
    return list((await session.execute(statement)).scalars().all())


async def add_document(
    *,
    session: AsyncSession,
    cycle: ReportCycle,
    kind: str,
    title: str,
    body: str | None,
    author: Principal,
    now: datetime,
) -> ReportDocument:
    document = ReportDocument(
        id=new_id("doc"),
        report_cycle_id=cycle.id,
        factory_id=cycle.factory_id,
        cycle=cycle.cycle,
        kind=kind,
        title=title,
        body=body,
        status="draft",
        author_org=author.org,
        author_role=author.role,
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent draft of the same kind won the race
        raise Conflict(f"This cycle already has a {kind} document.") from exc
    return document


async def replace_findings(
    *, session: AsyncSession, document_id: str, findings: Iterable[FindingIn]
) -> list[AssessmentFinding]:
    await session.execute(
        sa.delete(AssessmentFinding).where(col(AssessmentFinding.document_id) == document_id)
    )
    rows = [
        AssessmentFinding(
            id=new_id("fnd"),
            document_id=document_id,
            ordinal=ordinal,
            cluster=finding.cluster,
            question=finding.question,
            publicly_reported=finding.publicly_reported,
            compliant=finding.compliant,
            detail=finding.detail,
        )
        for ordinal, finding in enumerate(findings)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def findings_of(*, session: AsyncSession, document_id: str) -> list[AssessmentFinding]:
    statement = (
        select(AssessmentFinding)
        .where(col(AssessmentFinding.document_id) == document_id)
        .order_by(col(AssessmentFinding.ordinal))
    )
    return list((await session.execute(statement)).scalars().all())


async def assessment_of(*, session: AsyncSession, cycle_id: str) -> ReportDocument | None:
    statement = select(ReportDocument).where(
        col(ReportDocument.report_cycle_id) == cycle_id,
        col(ReportDocument.kind) == "assessment",
    )
    return (await session.execute(statement)).scalar_one_or_none()
