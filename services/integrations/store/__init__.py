"""Database queries of the integrations service. Session in, rows out; nothing commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.integrations.models import FeedAudience, FeedCounter, FeedEvent
from shared.auth import ALL_COUNTRIES, Principal
from shared.outbox import next_numbers

__all__ = [
    "audience_filter",
    "audience_rows",
    "event_by_id",
    "feed_page",
    "position_of",
    "with_sequence",
]

ORG = "org:"
_SEQUENCE = ',"sequence":'


async def audience_rows(
    *, session: AsyncSession, audiences: Sequence[tuple[int, Sequence[str]]]
) -> list[dict[str, object]]:
    """The `feed_audience` rows of new feed positions (oldest first), each organisation's
    numbered on from its counter (taken under the counter's row lock: the caller holds the
    feed counter already, so numbers follow positions)."""
    unique = [(position, list(dict.fromkeys(keys))) for position, keys in audiences]
    counts = Counter(key for _, keys in unique for key in keys if key.startswith(ORG))
    lasts = await next_numbers(session, FeedCounter, counts)
    numbers = {key: lasts[key] - counts[key] for key in counts}
    rows: list[dict[str, object]] = []
    for position, keys in unique:
        for key in keys:
            sequence = None
            if key in numbers:
                numbers[key] += 1
                sequence = numbers[key]
            rows.append({"audience": key, "position": position, "sequence": sequence})
    return rows


def with_sequence(body: str, sequence: int | None) -> str:
    """The stored event body (`ingest._body`: id, type, source, then sequence) with its
    `sequence` set to the organisation's own number; unchanged when there is none."""
    if sequence is None:
        return body
    start = body.index(_SEQUENCE) + len(_SEQUENCE)
    end = body.index(",", start)
    return f"{body[:start]}{sequence}{body[end:]}"


def audience_filter(principal: Principal) -> sa.ColumnElement[bool]:
    """Which audience rows the caller matches: its organisation; an advisor, the
    programmes of its `countries` claim and events for every advisor (`country:*`)."""
    if principal.role != "advisor":
        return col(FeedAudience.audience) == f"org:{principal.org}"
    if ALL_COUNTRIES in principal.countries:
        return col(FeedAudience.audience).startswith("country:")
    keys = ["country:*", *(f"country:{c.upper()}" for c in principal.countries)]
    return col(FeedAudience.audience).in_(keys)


async def position_of(*, session: AsyncSession, event_id: str) -> int | None:
    position = await session.scalar(
        sa.select(col(FeedEvent.position)).where(col(FeedEvent.id) == event_id)
    )
    return None if position is None else int(position)


async def feed_page(
    *,
    session: AsyncSession,
    principal: Principal,
    after: int,
    types: Sequence[str],
    limit: int,
) -> list[tuple[int, str, str]]:
    """(position, id, body) of the caller's next events after `after`, oldest first, as
    the caller sees them (`with_sequence`). One index range per audience key ((audience,
    position) is the key of `feed_audience`)."""
    statement = (
        sa.select(
            col(FeedEvent.position),
            col(FeedEvent.id),
            col(FeedEvent.body),
            col(FeedAudience.sequence),
        )
        .join(FeedAudience, col(FeedAudience.position) == col(FeedEvent.position))
        .where(audience_filter(principal), col(FeedAudience.position) > after)
    )
    if types:
        statement = statement.where(col(FeedEvent.type).in_(list(types)))
    statement = statement.order_by(col(FeedAudience.position)).limit(limit)
    rows = (await session.execute(statement)).all()
    # An advisor may match an event twice (two of its countries): once is enough.
    seen: dict[int, tuple[int, str, str]] = {}
    for position, event_id, body, sequence in rows:
        if int(position) not in seen:
            seen[int(position)] = (int(position), event_id, with_sequence(body, sequence))
    return list(seen.values())


async def event_by_id(*, session: AsyncSession, principal: Principal, event_id: str) -> str | None:
    """The event's body as the caller sees it, if it may see it."""
    statement = (
        sa.select(col(FeedEvent.body), col(FeedAudience.sequence))
        .join(FeedAudience, col(FeedAudience.position) == col(FeedEvent.position))
        .where(col(FeedEvent.id) == event_id, audience_filter(principal))
        .limit(1)
    )
    found = (await session.execute(statement)).first()
    return None if found is None else with_sequence(found[0], found[1])
