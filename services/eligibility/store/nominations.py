"""Database queries for nominations (async session in, rows out; only flushes: the request's
session dependency commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.eligibility import events
from services.eligibility.models import Factory, Nomination
from shared import clock
from shared.errors import Conflict, NotFound
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "active_nominations",
    "get_nomination",
    "list_nominations",
    "nominate",
    "withdraw",
]

ACTIVE = "active"
WITHDRAWN = "withdrawn"
_BATCH = 5000  # factory ids per query when a large list matched many factories


async def _active(*, session: AsyncSession, factory_id: str, partner_org: str) -> Nomination | None:
    found: Nomination | None = await session.scalar(
        sa.select(Nomination).where(
            col(Nomination.factory_id) == factory_id,
            col(Nomination.partner_org) == partner_org,
            col(Nomination.status) == ACTIVE,
        )
    )
    return found


async def nominate(
    *, session: AsyncSession, factory: Factory, partner_org: str, user: str
) -> tuple[Nomination, bool]:
    """The partner's active nomination of `factory`, recorded now unless it has one; the
    flag says whether it is new (nominating twice is the same nomination)."""
    existing = await _active(session=session, factory_id=factory.id, partner_org=partner_org)
    if existing is not None:
        return existing, False
    now = clock.now()
    nomination = Nomination(
        id=new_id("nom"),
        factory_id=factory.id,
        country=factory.country,
        partner_org=partner_org,
        status=ACTIVE,
        nominated_by=user,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():  # a concurrent twin must not end the transaction
            session.add(nomination)
            await session.flush()
    except IntegrityError as exc:
        existing = await _active(session=session, factory_id=factory.id, partner_org=partner_org)
        if existing is None:
            raise Conflict("The nomination could not be recorded; try again.") from exc
        return existing, False
    await events.nomination_changed(session, nomination)
    return nomination, True


async def get_nomination(
    *, session: AsyncSession, nomination_id: str, for_update: bool = False
) -> Nomination:
    statement = sa.select(Nomination).where(col(Nomination.id) == nomination_id)
    if for_update:
        statement = statement.with_for_update()
    found = await session.scalar(statement)
    if found is None:
        raise NotFound(f"There is no nomination {nomination_id!r}.")
    return found


async def withdraw(*, session: AsyncSession, nomination: Nomination, user: str) -> Nomination:
    """Withdraw an active nomination (a withdrawn one stays as it is)."""
    if nomination.status != WITHDRAWN:
        now = clock.now()
        nomination.status = WITHDRAWN
        nomination.withdrawn_at = now
        nomination.withdrawn_by = user
        nomination.updated_at = now
        await session.flush()
        await events.nomination_changed(session, nomination)
    return nomination


async def list_nominations(
    *,
    session: AsyncSession,
    page: PageParams,
    partner_org: str | None = None,
    countries: Sequence[str] | None = None,
    factory_id: str | None = None,
    country: str | None = None,
    status: str | None = None,
    updated_since: datetime | None = None,
) -> tuple[list[Nomination], str | None]:
    """A page of nominations by id (oldest first); each filter given narrows it."""
    statement = sa.select(Nomination)
    if partner_org is not None:
        statement = statement.where(col(Nomination.partner_org) == partner_org)
    if countries is not None:
        statement = statement.where(col(Nomination.country).in_(countries))
    if factory_id is not None:
        statement = statement.where(col(Nomination.factory_id) == factory_id)
    if country is not None:
        statement = statement.where(col(Nomination.country) == country)
    if status is not None:
        statement = statement.where(col(Nomination.status) == status)
    if updated_since is not None:
        statement = statement.where(col(Nomination.updated_at) >= updated_since)
    return await paginate(session, statement, page, key=[sort_key(Nomination.id, str)])


async def active_nominations(
    *, session: AsyncSession, factory_ids: Iterable[str]
) -> dict[str, list[Nomination]]:
    """The active nominations of each factory that has any."""
    wanted = sorted(set(factory_ids))
    found: dict[str, list[Nomination]] = {}
    for start in range(0, len(wanted), _BATCH):
        batch = wanted[start : start + _BATCH]
        rows = await session.scalars(
            sa.select(Nomination)
            .where(col(Nomination.factory_id).in_(batch), col(Nomination.status) == ACTIVE)
            .order_by(col(Nomination.id))
        )
        for row in rows:
            found.setdefault(row.factory_id, []).append(row)
    return found
