"""Database queries of the integrations service. Session in, rows out; nothing commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.integrations.models import FeedAudience, FeedEvent
from shared.auth import ALL_COUNTRIES, Principal

__all__ = ["audience_filter", "event_by_id", "feed_page", "position_of", "purge_before"]


def audience_filter(principal: Principal) -> sa.ColumnElement[bool]:
    """Which audience rows the caller matches: its organisation; an advisor, the
    programmes of its `countries` claim and events for every advisor (`country:*`)."""
    if principal.role != "advisor":
        return col(FeedAudience.audience) == f"org:{principal.org}"
    if ALL_COUNTRIES in principal.countries:
        return col(FeedAudience.audience).startswith("country:")
    keys = ["country:*", *(f"country:{c.upper()}" for c in principal.countries)]
    return col(FeedAudience.audience).in_(keys)


async def position_of(session: AsyncSession, *, event_id: str) -> int | None:
    position = await session.scalar(
        sa.select(col(FeedEvent.position)).where(col(FeedEvent.id) == event_id)
    )
    return None if position is None else int(position)


async def feed_page(
    session: AsyncSession,
    *,
    principal: Principal,
    after: int,
    types: Sequence[str],
    limit: int,
) -> list[tuple[int, str, str]]:
    """(position, id, body) of the caller's next events after `after`, oldest first. One
    index range per audience key ((audience, position) is the key of `feed_audience`)."""
    statement = (
        sa.select(col(FeedEvent.position), col(FeedEvent.id), col(FeedEvent.body))
        .join(FeedAudience, col(FeedAudience.position) == col(FeedEvent.position))
        .where(audience_filter(principal), col(FeedAudience.position) > after)
    )
    if types:
        statement = statement.where(col(FeedEvent.type).in_(list(types)))
    statement = statement.order_by(col(FeedAudience.position)).limit(limit)
    rows = (await session.execute(statement)).all()
    # An advisor may match an event twice (two of its countries): once is enough.
    seen: dict[int, tuple[int, str, str]] = {}
    for position, event_id, body in rows:
        seen.setdefault(int(position), (int(position), event_id, body))
    return list(seen.values())


async def event_by_id(session: AsyncSession, *, principal: Principal, event_id: str) -> str | None:
    """The event's body, if the caller may see it."""
    statement = (
        sa.select(col(FeedEvent.body))
        .join(FeedAudience, col(FeedAudience.position) == col(FeedEvent.position))
        .where(col(FeedEvent.id) == event_id, audience_filter(principal))
        .limit(1)
    )
    body: str | None = await session.scalar(statement)
    return body


async def purge_before(session: AsyncSession, *, moment: datetime) -> int:
    """Forget the events taken in before `moment` (the feed keeps 30 days)."""
    old = sa.select(col(FeedEvent.position)).where(col(FeedEvent.received_at) < moment)
    await session.execute(sa.delete(FeedAudience).where(col(FeedAudience.position).in_(old)))
    deleted = await session.execute(sa.delete(FeedEvent).where(col(FeedEvent.received_at) < moment))
    return int(deleted.rowcount)  # type: ignore[attr-defined]
