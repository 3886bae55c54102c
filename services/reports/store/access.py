"""Database queries for who holds what on a factory's reports: third-party access, unlocks
and shares. Session in, rows out; nothing here commits."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

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
from shared.db import insert_for
from shared.idempotency import StoredReply, gated_store_sql
from shared.ids import new_id
from shared.outbox import Pending, gated_record_parameters, gated_record_sql, record_many
from shared.pagination import PageParams, paginate, sort_key
from shared.scope import country_clause

__all__ = [
    "CycleRef",
    "TpaRef",
    "UnlockChange",
    "UnlockTarget",
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
    "request_access_many",
    "requests_of",
    "reserve_unlock",
    "shared_cycles",
    "take_over_stale",
    "tpa_holders",
    "tpa_states",
    "unlock_of",
    "unlock_target",
    "unlocked_cycles",
    "unlocks_for_audit",
]

ACTIVE, PENDING = "active", "pending"


class UnlockChange(Protocol):
    """`forget_unlock` and `release_unlock_attempt`: steps of the saga's compensation."""

    async def __call__(self, *, session: AsyncSession, unlock_id: str, attempt_no: int) -> None: ...


# --- third-party access ------------------------------------------------------------------


async def get_tpa(*, session: AsyncSession, factory_id: str, org: str) -> AccessRequest | None:
    statement = select(AccessRequest).where(
        col(AccessRequest.factory_id) == factory_id, col(AccessRequest.buyer_org) == org
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def access_request(
    *, session: AsyncSession, request_id: str, for_update: bool = False
) -> AccessRequest | None:
    statement = select(AccessRequest).where(col(AccessRequest.id) == request_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


def _new_request(factory_id: str, country: str, buyer: Principal, now: datetime) -> dict[str, Any]:
    """A new pending request's row (`country`: the registry's, kept for advisor scope)."""
    return {
        "id": new_id("tpa"),
        "factory_id": factory_id,
        "country": country.upper(),
        "buyer_org": buyer.org,
        "buyer_role": buyer.role,
        "status": TpaStatus.PENDING,
        "requested_by": buyer.user,
        "requested_at": now,
        "updated_at": now,
    }


async def request_access(
    *, session: AsyncSession, factory_id: str, country: str, buyer: Principal, now: datetime
) -> tuple[AccessRequest, bool]:
    """The buyer's request for this factory, created if new: (row, True when created).
    `country` is the registry's for the factory, kept on the row (advisor scope)."""
    created = await insert_ignoring_conflict(
        session=session,
        model=AccessRequest,
        values=_new_request(factory_id, country, buyer, now),
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
    if row.country != country.upper():  # a request made before the country was kept
        row.country = country.upper()
        await session.flush()
    return row, created


async def requests_of(
    *, session: AsyncSession, org: str, factory_ids: Sequence[str], for_update: bool = False
) -> dict[str, AccessRequest]:
    """The organisation's requests for these factories, by factory (one query)."""
    statement = select(AccessRequest).where(
        col(AccessRequest.buyer_org) == org, col(AccessRequest.factory_id).in_(set(factory_ids))
    )
    if for_update:
        statement = statement.with_for_update()
    return {row.factory_id: row for row in (await session.execute(statement)).scalars()}


async def request_access_many(
    *, session: AsyncSession, countries: dict[str, str], buyer: Principal, now: datetime
) -> dict[str, AccessRequest]:
    """New pending requests of the buyer for the factories of `countries` (factory id →
    its country), in one INSERT; those a concurrent request created first are left alone.
    Returns the rows created, by factory."""
    if not countries:
        return {}
    values = [
        _new_request(factory_id, country, buyer, now)
        for factory_id, country in sorted(countries.items())
    ]
    statement = (
        insert_for(session)(AccessRequest)
        .values(values)
        .on_conflict_do_nothing(index_elements=["factory_id", "buyer_org"])
        .returning(AccessRequest)
        .execution_options(populate_existing=True)
    )
    return {row.factory_id: row for row in (await session.execute(statement)).scalars()}


async def list_access_requests(
    *,
    session: AsyncSession,
    page: PageParams,
    factory_id: str | None = None,
    buyer_org: str | None = None,
    status: str | None = None,
    countries: Sequence[str] | None = None,
    updated_since: datetime | None = None,
) -> Listing:
    """A page of requests by id; `countries` (shared.scope) None means every country;
    `updated_since`: only those changed (asked, asked again, decided) at or after it."""
    statement = select(AccessRequest).where(country_clause(col(AccessRequest.country), countries))
    if updated_since is not None:
        statement = statement.where(col(AccessRequest.updated_at) >= updated_since)
    if factory_id is not None:
        statement = statement.where(col(AccessRequest.factory_id) == factory_id)
    if buyer_org is not None:
        statement = statement.where(col(AccessRequest.buyer_org) == buyer_org)
    if status is not None:
        statement = statement.where(col(AccessRequest.status) == status)
    return await paginate(session, statement, page, key=[sort_key(AccessRequest.id, str)])


async def tpa_states(
    *, session: AsyncSession, org: str, factory_ids: Sequence[str]
) -> dict[str, str]:
    """The organisation's TPA state per factory, for those it ever asked (one query)."""
    statement = select(AccessRequest.factory_id, AccessRequest.status).where(
        col(AccessRequest.buyer_org) == org, col(AccessRequest.factory_id).in_(set(factory_ids))
    )
    return {str(row.factory_id): str(row.status) for row in await session.execute(statement)}


async def tpa_holders(*, session: AsyncSession, factory_id: str) -> list[tuple[str, str]]:
    """(org, role) of every buyer holding an approved TPA for the factory, by org."""
    statement = (
        select(AccessRequest.buyer_org, AccessRequest.buyer_role)
        .where(
            col(AccessRequest.factory_id) == factory_id,
            col(AccessRequest.status) == TpaStatus.APPROVED,
        )
        .order_by(col(AccessRequest.buyer_org))
    )
    return [(org, role) for org, role in await session.execute(statement)]


async def partners_with_approved_tpa(*, session: AsyncSession, factory_id: str) -> list[str]:
    statement = select(AccessRequest.buyer_org).where(
        col(AccessRequest.factory_id) == factory_id,
        col(AccessRequest.status) == TpaStatus.APPROVED,
        col(AccessRequest.buyer_role) == "partner",
    )
    return sorted((await session.execute(statement)).scalars().all())


# --- unlocks -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CycleRef:
    """The cycle an unlock is of: what the saga reads of it."""

    id: str
    factory_id: str
    cycle: int
    country: str


@dataclass(frozen=True, slots=True)
class TpaRef:
    """The caller's TPA on the factory: what `can_unlock` reads of it."""

    factory_id: str
    buyer_org: str
    status: str


@dataclass(frozen=True, slots=True)
class UnlockTarget:
    """The cycle (None: no such cycle) and what the organisation holds on it."""

    cycle: CycleRef | None
    tpa: TpaRef | None
    unlock: Unlock | None

    @property
    def active_unlock(self) -> Unlock | None:
        unlock = self.unlock
        return unlock if unlock is not None and unlock.status == ACTIVE else None


def _unlock_target() -> sa.Select[Any]:
    """The cycle, the caller's TPA and the caller's unlock of it in one Core select of the
    columns the saga reads, built once: an unlock request looks them up once, and loading
    ORM entities (four per row) cost more than the round trip."""
    cycle: sa.Table = ReportCycle.__table__  # type: ignore[attr-defined]
    tpa: sa.Table = AccessRequest.__table__  # type: ignore[attr-defined]
    unlock: sa.Table = Unlock.__table__  # type: ignore[attr-defined]
    org: sa.BindParameter[str] = sa.bindparam("org")
    return (
        sa.select(
            cycle.c.id,
            cycle.c.factory_id,
            cycle.c.cycle,
            cycle.c.country,
            tpa.c.status.label("tpa_status"),
            *(column.label(f"unlock_{column.name}") for column in unlock.columns),
        )
        .select_from(cycle)
        .outerjoin(tpa, sa.and_(tpa.c.factory_id == cycle.c.factory_id, tpa.c.buyer_org == org))
        .outerjoin(
            unlock, sa.and_(unlock.c.report_cycle_id == cycle.c.id, unlock.c.buyer_org == org)
        )
        .where(
            cycle.c.factory_id == sa.bindparam("factory_id"),
            cycle.c.cycle == sa.bindparam("cycle"),
        )
        .limit(1)
    )


_UNLOCK_TARGET = _unlock_target()
_UNLOCK_COLUMNS = [column.name for column in Unlock.__table__.columns]  # type: ignore[attr-defined]


async def unlock_target(
    *, session: AsyncSession, factory_id: str, cycle: int, org: str
) -> UnlockTarget:
    """One round trip for the cycle, the caller's TPA and unlock (a second, for the TPA
    alone, only when there is no such cycle)."""
    params = {"factory_id": factory_id, "cycle": cycle, "org": org}
    row = (await session.execute(_UNLOCK_TARGET, params)).first()
    if row is None:
        found = await get_tpa(session=session, factory_id=factory_id, org=org)
        tpa = None if found is None else TpaRef(found.factory_id, found.buyer_org, found.status)
        return UnlockTarget(None, tpa, None)
    values = row._mapping
    unlock = None
    if values["unlock_id"] is not None:
        unlock = Unlock(**{name: values[f"unlock_{name}"] for name in _UNLOCK_COLUMNS})
    return UnlockTarget(
        CycleRef(row.id, row.factory_id, row.cycle, row.country),
        None if row.tpa_status is None else TpaRef(factory_id, org, row.tpa_status),
        unlock,
    )


async def unlock_of(*, session: AsyncSession, cycle_id: str, org: str) -> Unlock | None:
    statement = (
        select(Unlock)
        .where(col(Unlock.report_cycle_id) == cycle_id, col(Unlock.buyer_org) == org)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def reserve_unlock(
    *,
    session: AsyncSession,
    cycle: CycleRef,
    buyer: Principal,
    now: datetime,
    stale_before: datetime,
) -> Unlock | None:
    """The organisation's unlock of the cycle, for a new attempt to pay for: a new `pending`
    one (attempt 1), or the pending one an earlier attempt left, taken over with the next
    attempt number when no attempt holds it (or the one that did went quiet before
    `stale_before`). An `active` one is returned as it is. None: another attempt holds it."""
    created = await insert_returning_unless_conflict(
        session=session,
        model=Unlock,
        values={
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
            "attempt_no": 1,
            "cancelled_through": 0,
            "attempt_started_at": now,
        },
        on=["report_cycle_id", "buyer_org"],
    )
    if created is not None:
        return created
    taken_over = await _take_over(
        session=session,
        where=[col(Unlock.report_cycle_id) == cycle.id, col(Unlock.buyer_org) == buyer.org],
        now=now,
        stale_before=stale_before,
    )
    if taken_over is not None:
        return taken_over
    found = await unlock_of(session=session, cycle_id=cycle.id, org=buyer.org)
    return found if found is not None and found.status == ACTIVE else None


async def _take_over(
    *,
    session: AsyncSession,
    where: list[sa.ColumnElement[bool]],
    now: datetime,
    stale_before: datetime,
) -> Unlock | None:
    statement = (
        sa.update(Unlock)
        .where(*where, col(Unlock.status) == PENDING, _unheld(stale_before))
        .values(attempt_no=col(Unlock.attempt_no) + 1, attempt_started_at=now)
        .returning(Unlock)
        # The row comes back from RETURNING: no need to evaluate the criteria in Python
        # against objects in the session (SQLAlchemy's default, a tenth of an unlock's CPU).
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.execute(statement)).scalar_one_or_none()


def _unheld(stale_before: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        col(Unlock.attempt_started_at).is_(None), col(Unlock.attempt_started_at) < stale_before
    )


async def take_over_stale(
    *, session: AsyncSession, now: datetime, stale_before: datetime, limit: int
) -> list[Unlock]:
    """Pending unlocks whose attempt died or let go, taken over for the recovery sweep (one
    sweeper per row: the conditional UPDATE decides, across processes)."""
    candidates = select(Unlock.id).where(col(Unlock.status) == PENDING, _unheld(stale_before))
    ids = list((await session.execute(candidates.limit(limit))).scalars().all())
    taken = []
    for unlock_id in ids:
        row = await _take_over(
            session=session, where=[col(Unlock.id) == unlock_id], now=now, stale_before=stale_before
        )
        if row is not None:
            taken.append(row)
    return taken


def _held(unlock_id: str, attempt_no: int) -> list[sa.ColumnElement[bool]]:
    return [
        col(Unlock.id) == unlock_id,
        col(Unlock.status) == PENDING,
        col(Unlock.attempt_no) == attempt_no,
    ]


def _activation() -> sa.Update:
    """Pending → active if attempt `held_attempt` still holds the row. Built once on the
    table, values bound at execution: building the statement and its cache key per call
    costs more than its round trip."""
    table: sa.Table = Unlock.__table__  # type: ignore[attr-defined]
    return (
        table.update()
        .where(
            table.c.id == sa.bindparam("held_id"),
            table.c.status == PENDING,
            table.c.attempt_no == sa.bindparam("held_attempt"),
        )
        .returning(table.c.id)
    )


_ACTIVATION = _activation()
_ACTIVATED = """
    activated AS (
        UPDATE unlock SET status = :status, payment_reference = :payment_reference,
            charged_credits = :charged_credits, footprint_year = :footprint_year,
            completed_at = :completed_at, cancelled_through = :cancelled_through,
            attempt_started_at = :attempt_started_at
        WHERE id = :held_id AND status = 'pending' AND attempt_no = :held_attempt
        RETURNING id
    )"""


@functools.cache
def _activation_at_once(with_reply: bool) -> sa.TextClause:
    """The activation, its reply (if any) and its event in one statement (PostgreSQL):
    committed together in one round trip, with no BEGIN and no COMMIT of their own; the
    reply and the event are written only if the UPDATE activated the row."""
    parts = [_ACTIVATED]
    if with_reply:
        parts.append(gated_store_sql("activated"))
    parts.append(gated_record_sql("activated"))
    # Built from this module's constants only, once: no input ever reaches the text.
    return sa.text(f"WITH {','.join(parts)} SELECT EXISTS (SELECT FROM activated)")  # noqa: S608


async def activate_unlock(
    *,
    session: AsyncSession,
    active: Unlock,
    attempt_no: int,
    event: Pending,
    reply: StoredReply | None = None,
    reply_result: Any = None,
    now: datetime,
) -> bool:
    """Pending → active as `active` (the row once paid for: its payment reference, credits,
    year, completion) if attempt `attempt_no` still holds it (every earlier attempt's
    reference was cancelled before it paid), with its event and, if given, the request's
    reply to `reply_result`, the event occurring `now`; False when the attempt no longer
    holds it (nothing written).

    On PostgreSQL one statement, which commits on its own in an autocommit session; on
    SQLite three, in the caller's transaction (the caller commits)."""
    parameters = {
        "held_id": active.id,
        "held_attempt": attempt_no,
        "status": active.status,
        "payment_reference": active.payment_reference,
        "charged_credits": active.charged_credits,
        "footprint_year": active.footprint_year,
        "completed_at": active.completed_at,
        "cancelled_through": active.cancelled_through,
        "attempt_started_at": active.attempt_started_at,
    }
    if session.get_bind().dialect.name == "postgresql":
        parameters |= gated_record_parameters(event, occurred_at=now)
        if reply is not None:
            parameters |= reply.gated_parameters(reply_result)
        statement = _activation_at_once(reply is not None)
        activated = bool((await session.execute(statement, parameters)).scalar_one())
        if activated and reply is not None:
            reply.committed()
        return activated
    if (await session.execute(_ACTIVATION, parameters)).first() is None:
        return False
    if reply is not None:
        await reply.store(session, reply_result)
    await record_many(session, [event], occurred_at=now)
    return True


async def forget_unlock(*, session: AsyncSession, unlock_id: str, attempt_no: int) -> None:
    """Drop a pending unlock whose every payment reference is cancelled in billing."""
    await session.execute(
        sa.delete(Unlock)
        .where(*_held(unlock_id, attempt_no))
        .execution_options(synchronize_session=False)
    )


async def release_unlock_attempt(*, session: AsyncSession, unlock_id: str, attempt_no: int) -> None:
    """Let the next attempt take a pending unlock over at once (it cancels this attempt's
    reference before paying with its own)."""
    await session.execute(
        sa.update(Unlock)
        .where(*_held(unlock_id, attempt_no))
        .values(attempt_started_at=None)
        .execution_options(synchronize_session=False)
    )


async def unlocks_for_audit(*, session: AsyncSession) -> list[Unlock]:
    """Every active unlock and every pending one: what the reconciliation audit compares
    with billing's charges."""
    return list((await session.execute(select(Unlock))).scalars().all())


async def list_unlocks(
    *,
    session: AsyncSession,
    org: str,
    page: PageParams,
    factory_id: str | None = None,
    updated_since: datetime | None = None,
) -> Listing:
    """The organisation's active unlocks by id; `updated_since`: only those activated at or
    after it (an active unlock never changes again, so its activation is its last change;
    unlocks made before activations were timed count from their creation)."""
    statement = select(Unlock).where(col(Unlock.buyer_org) == org, col(Unlock.status) == ACTIVE)
    if factory_id is not None:
        statement = statement.where(col(Unlock.factory_id) == factory_id)
    if updated_since is not None:
        changed = sa.func.coalesce(col(Unlock.completed_at), col(Unlock.created_at))
        statement = statement.where(changed >= updated_since)
    return await paginate(session, statement, page, key=[sort_key(Unlock.id, str)])


async def unlocked_cycles(*, session: AsyncSession, org: str, factory_id: str) -> list[int]:
    statement = select(Unlock.cycle).where(
        col(Unlock.buyer_org) == org,
        col(Unlock.factory_id) == factory_id,
        col(Unlock.status) == ACTIVE,
    )
    return sorted(set((await session.execute(statement)).scalars().all()))


# --- shares ------------------------------------------------------------------------------


async def add_share(
    *,
    session: AsyncSession,
    cycle: ReportCycle,
    unlock_id: str,
    sharer: Principal,
    with_org: str,
    now: datetime,
) -> tuple[ReportShare, bool]:
    created = await insert_ignoring_conflict(
        session=session,
        model=ReportShare,
        values={
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


async def list_shares(*, session: AsyncSession, from_org: str, page: PageParams) -> Listing:
    statement = select(ReportShare).where(col(ReportShare.from_org) == from_org)
    return await paginate(session, statement, page, key=[sort_key(ReportShare.id, str)])


async def shared_cycles(*, session: AsyncSession, org: str, factory_id: str) -> list[int]:
    statement = select(ReportShare.cycle).where(
        col(ReportShare.with_org) == org, col(ReportShare.factory_id) == factory_id
    )
    return sorted(set((await session.execute(statement)).scalars().all()))


async def readers_of_cycle(*, session: AsyncSession, cycle: ReportCycle) -> list[str]:
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
