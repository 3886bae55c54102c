"""Database queries for who holds what on a factory's reports: third-party access, unlocks
and shares. Session in, rows out; nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.reports.models import (
    AccessRequest,
    ReportCycle,
    ReportShare,
    Unlock,
)
from services.reports.schemas import TpaStatus
from services.reports.store import (
    Listing,
    insert_ignoring_conflict,
    insert_returning_unless_conflict,
)
from shared.auth import Principal
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "UnlockChange",
    "access_request",
    "activate_unlock",
    "add_share",
    "forget_unlock",
    "get_tpa",
    "list_access_requests",
    "list_shares",
    "list_unlocks",
    "partners_with_approved_tpa",
    "readers_of_cycle",
    "release_unlock_attempt",
    "request_access",
    "reserve_unlock",
    "shared_cycles",
    "unlock_of",
    "unlocked_cycles",
]

ACTIVE, PENDING = "active", "pending"


class UnlockChange(Protocol):
    """`forget_unlock` and `release_unlock_attempt`: steps of the saga's compensation."""

    async def __call__(self, session: AsyncSession, *, unlock_id: str, attempt: str) -> None: ...


# --- third-party access ------------------------------------------------------------------


async def get_tpa(session: AsyncSession, *, factory_id: str, org: str) -> AccessRequest | None:
    statement = select(AccessRequest).where(
        col(AccessRequest.factory_id) == factory_id, col(AccessRequest.buyer_org) == org
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def access_request(
    session: AsyncSession, *, request_id: str, for_update: bool = False
) -> AccessRequest | None:
    statement = select(AccessRequest).where(col(AccessRequest.id) == request_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def request_access(
    session: AsyncSession, *, factory_id: str, buyer: Principal, now: datetime
) -> tuple[AccessRequest, bool]:
    """The buyer's request for this factory, created if new: (row, True when created)."""
    created = await insert_ignoring_conflict(
        session,
        AccessRequest,
        {
            "id": new_id("tpa"),
            "factory_id": factory_id,
            "buyer_org": buyer.org,
            "buyer_role": buyer.role,
            "status": TpaStatus.PENDING,
            "requested_by": buyer.user,
            "requested_at": now,
            "updated_at": now,
        },
        on=["factory_id", "buyer_org"],
    )
    statement = (
        select(AccessRequest)
        .where(
            col(AccessRequest.factory_id) == factory_id, col(AccessRequest.buyer_org) == buyer.org
        )
        .with_for_update()
    )
    row = (await session.execute(statement)).scalar_one()
    return row, created


async def list_access_requests(
    session: AsyncSession,
    *,
    page: PageParams,
    factory_id: str | None = None,
    buyer_org: str | None = None,
    status: str | None = None,
) -> Listing:
    statement = select(AccessRequest)
    if factory_id is not None:
        statement = statement.where(col(AccessRequest.factory_id) == factory_id)
    if buyer_org is not None:
        statement = statement.where(col(AccessRequest.buyer_org) == buyer_org)
    if status is not None:
        statement = statement.where(col(AccessRequest.status) == status)
    return await paginate(session, statement, page, key=[sort_key(AccessRequest.id, str)])


async def partners_with_approved_tpa(session: AsyncSession, *, factory_id: str) -> list[str]:
    statement = select(AccessRequest.buyer_org).where(
        col(AccessRequest.factory_id) == factory_id,
        col(AccessRequest.status) == TpaStatus.APPROVED,
        col(AccessRequest.buyer_role) == "partner",
    )
    return sorted((await session.execute(statement)).scalars().all())


# --- unlocks -----------------------------------------------------------------------------


async def unlock_of(session: AsyncSession, *, cycle_id: str, org: str) -> Unlock | None:
    statement = (
        select(Unlock)
        .where(col(Unlock.report_cycle_id) == cycle_id, col(Unlock.buyer_org) == org)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def reserve_unlock(
    session: AsyncSession,
    *,
    cycle: ReportCycle,
    buyer: Principal,
    attempt: str,
    now: datetime,
    stale_before: datetime,
) -> Unlock | None:
    """The organisation's unlock of the cycle, for `attempt` to pay for: a new `pending`
    one, or the pending one an earlier attempt left (its id is what billing knows), taken
    over when no other attempt runs it (or the one that did went quiet before
    `stale_before`). An `active` one is returned as it is. None: another attempt is running."""
    created = await insert_returning_unless_conflict(
        session,
        Unlock,
        {
            "id": new_id("unl"),
            "report_cycle_id": cycle.id,
            "factory_id": cycle.factory_id,
            "cycle": cycle.cycle,
            "buyer_org": buyer.org,
            "buyer_role": buyer.role,
            "status": PENDING,
            "charged_credits": 0,
            "created_by": buyer.user,
            "created_at": now,
            "attempt_id": attempt,
            "attempt_started_at": now,
        },
        on=["report_cycle_id", "buyer_org"],
    )
    if created is not None:
        return created
    taken_over = (
        await session.execute(
            sa.update(Unlock)
            .where(
                col(Unlock.report_cycle_id) == cycle.id,
                col(Unlock.buyer_org) == buyer.org,
                col(Unlock.status) == PENDING,
                sa.or_(
                    col(Unlock.attempt_id).is_(None),
                    col(Unlock.attempt_started_at) < stale_before,
                ),
            )
            .values(attempt_id=attempt, attempt_started_at=now)
            .returning(Unlock)
        )
    ).scalar_one_or_none()
    if taken_over is not None:
        return taken_over
    found = await unlock_of(session, cycle_id=cycle.id, org=buyer.org)
    return found if found is not None and found.status == ACTIVE else None


def _held(unlock_id: str, attempt: str) -> list[sa.ColumnElement[bool]]:
    return [
        col(Unlock.id) == unlock_id,
        col(Unlock.status) == PENDING,
        col(Unlock.attempt_id) == attempt,
    ]


_ACTIVATE = (
    sa.update(Unlock)
    .where(
        col(Unlock.id) == sa.bindparam("unlock_id"),
        col(Unlock.status) == PENDING,
        col(Unlock.attempt_id) == sa.bindparam("attempt"),
    )
    .values(
        status=ACTIVE,
        charged_credits=sa.bindparam("charged_credits"),
        footprint_year=sa.bindparam("year"),
        completed_at=sa.bindparam("now"),
        attempt_id=None,
        attempt_started_at=None,
    )
    .returning(Unlock)
)


async def activate_unlock(
    session: AsyncSession,
    *,
    unlock_id: str,
    attempt: str,
    charged_credits: int,
    year: int | None,
    now: datetime,
) -> Unlock | None:
    """Pending → active, if `attempt` still runs it; None when it no longer does."""
    params = {
        "unlock_id": unlock_id,
        "attempt": attempt,
        "charged_credits": charged_credits,
        "year": year,
        "now": now,
    }
    return (await session.execute(_ACTIVATE, params)).scalar_one_or_none()


async def forget_unlock(session: AsyncSession, *, unlock_id: str, attempt: str) -> None:
    """Drop a pending unlock whose payment was refused or given back."""
    await session.execute(sa.delete(Unlock).where(*_held(unlock_id, attempt)))


async def release_unlock_attempt(session: AsyncSession, *, unlock_id: str, attempt: str) -> None:
    """Let the next attempt take a pending unlock over at once (its payment stands)."""
    await session.execute(
        sa.update(Unlock)
        .where(*_held(unlock_id, attempt))
        .values(attempt_id=None, attempt_started_at=None)
    )


async def list_unlocks(
    session: AsyncSession, *, org: str, page: PageParams, factory_id: str | None = None
) -> Listing:
    statement = select(Unlock).where(col(Unlock.buyer_org) == org, col(Unlock.status) == ACTIVE)
    if factory_id is not None:
        statement = statement.where(col(Unlock.factory_id) == factory_id)
    return await paginate(session, statement, page, key=[sort_key(Unlock.id, str)])


async def unlocked_cycles(session: AsyncSession, *, org: str, factory_id: str) -> list[int]:
    statement = select(Unlock.cycle).where(
        col(Unlock.buyer_org) == org,
        col(Unlock.factory_id) == factory_id,
        col(Unlock.status) == ACTIVE,
    )
    return sorted(set((await session.execute(statement)).scalars().all()))


# --- shares ------------------------------------------------------------------------------


async def add_share(
    session: AsyncSession,
    *,
    cycle: ReportCycle,
    unlock_id: str,
    sharer: Principal,
    with_org: str,
    now: datetime,
) -> tuple[ReportShare, bool]:
    created = await insert_ignoring_conflict(
        session,
        ReportShare,
        {
            "id": new_id("shr"),
            "report_cycle_id": cycle.id,
            "factory_id": cycle.factory_id,
            "cycle": cycle.cycle,
            "from_org": sharer.org,
            "with_org": with_org,
            "unlock_id": unlock_id,
            "created_by": sharer.user,
            "created_at": now,
        },
        on=["report_cycle_id", "from_org", "with_org"],
    )
    statement = select(ReportShare).where(
        col(ReportShare.report_cycle_id) == cycle.id,
        col(ReportShare.from_org) == sharer.org,
        col(ReportShare.with_org) == with_org,
    )
    return (await session.execute(statement)).scalar_one(), created


async def list_shares(session: AsyncSession, *, from_org: str, page: PageParams) -> Listing:
    statement = select(ReportShare).where(col(ReportShare.from_org) == from_org)
    return await paginate(session, statement, page, key=[sort_key(ReportShare.id, str)])


async def shared_cycles(session: AsyncSession, *, org: str, factory_id: str) -> list[int]:
    statement = select(ReportShare.cycle).where(
        col(ReportShare.with_org) == org, col(ReportShare.factory_id) == factory_id
    )
    return sorted(set((await session.execute(statement)).scalars().all()))


async def readers_of_cycle(session: AsyncSession, *, cycle: ReportCycle) -> list[str]:
    """Buyer organisations that may read the cycle: those that unlocked it, and those it was
    shared with while they hold an approved TPA."""
    unlocked = select(Unlock.buyer_org).where(
        col(Unlock.report_cycle_id) == cycle.id, col(Unlock.status) == ACTIVE
    )
    shared = (
        select(ReportShare.with_org)
        .join(
            AccessRequest,
            sa.and_(
                col(AccessRequest.factory_id) == col(ReportShare.factory_id),
                col(AccessRequest.buyer_org) == col(ReportShare.with_org),
            ),
        )
        .where(
            col(ReportShare.report_cycle_id) == cycle.id,
            col(AccessRequest.status) == TpaStatus.APPROVED,
        )
    )
    orgs = set((await session.execute(unlocked)).scalars().all())
    orgs.update((await session.execute(shared)).scalars().all())
    return sorted(orgs)
