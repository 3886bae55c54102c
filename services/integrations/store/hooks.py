"""Queries on webhook endpoints and their deliveries (session in, rows out; nothing
commits), and recording the integrations service's own events into the feed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.integrations.models import (
    FeedAudience,
    FeedCounter,
    FeedEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from services.integrations.store import audience_rows
from shared.auth import ALL_COUNTRIES, Principal
from shared.db import insert_for
from shared.events import EventData
from shared.ids import new_id
from shared.outbox import next_number

__all__ = [
    "ALL_ADVISOR_KEYS",
    "audiences_of",
    "endpoint_filter",
    "enqueue",
    "last_position",
    "matching_positions",
    "may_manage",
    "record_own_event",
]

# The audience marker of an advisor who sees every programme (`store.audience_filter`).
ALL_ADVISOR_KEYS = "country:"


def audiences_of(principal: Principal) -> list[str]:
    """The feed audience keys the caller matches now, frozen into an endpoint it registers
    (deliveries carry only what its owner's feed showed)."""
    if principal.role != "advisor":
        return [f"org:{principal.org}"]
    if ALL_COUNTRIES in principal.countries:
        return [ALL_ADVISOR_KEYS]
    return sorted({"country:*", *(f"country:{c.upper()}" for c in principal.countries)})


def may_manage(principal: Principal, endpoint: WebhookEndpoint) -> bool:
    """Object-level access: the caller's organisation's endpoint, and for advisors one that
    sees no more than the caller does (an advisor of one country may not take over, and so
    redirect, an endpoint that receives every programme's events)."""
    if endpoint.org != principal.org:
        return False
    if principal.role != "advisor" or endpoint.role != "advisor":
        return principal.role != "advisor" and endpoint.role != "advisor"
    mine = set(audiences_of(principal))
    if ALL_ADVISOR_KEYS in mine:
        return True
    return set(json.loads(endpoint.audiences)) <= mine


def endpoint_filter(audiences: Sequence[str]) -> sa.ColumnElement[bool]:
    if ALL_ADVISOR_KEYS in audiences:
        return col(FeedAudience.audience).startswith(ALL_ADVISOR_KEYS)
    return col(FeedAudience.audience).in_(list(audiences))


async def last_position(*, session: AsyncSession) -> int:
    found = await session.scalar(sa.select(sa.func.max(col(FeedEvent.position))))
    return int(found or 0)


async def matching_positions(
    *,
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    after: int = 0,
    since: datetime | None = None,
    event_id: str | None = None,
    limit: int = 1000,
) -> list[tuple[int, str]]:
    """(position, event id) of the feed events the endpoint receives, oldest first."""
    statement = (
        sa.select(col(FeedEvent.position), col(FeedEvent.id))
        .join(FeedAudience, col(FeedAudience.position) == col(FeedEvent.position))
        .where(endpoint_filter(json.loads(endpoint.audiences)), col(FeedEvent.position) > after)
        .distinct()
        .order_by(col(FeedEvent.position))
        .limit(limit)
    )
    types: list[str] = json.loads(endpoint.event_types)
    if types:
        statement = statement.where(col(FeedEvent.type).in_(types))
    if since is not None:
        statement = statement.where(col(FeedEvent.received_at) >= since)
    if event_id is not None:
        statement = statement.where(col(FeedEvent.id) == event_id)
    return [(int(p), str(i)) for p, i in (await session.execute(statement)).all()]


async def enqueue(
    *,
    session: AsyncSession,
    endpoint_id: str,
    events: Sequence[tuple[int, str]],
    now: datetime,
    again: bool = False,
) -> None:
    """Delivery rows for these events; `again` puts back ones already made (redelivery),
    otherwise an existing row is left alone (fan-out seen twice after a crash)."""
    if not events:
        return
    rows = [
        {
            "endpoint_id": endpoint_id,
            "position": position,
            "event_id": event_id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "lease_owner": None,
            "created_at": now,
        }
        for position, event_id in events
    ]
    statement = insert_for(session)(WebhookDelivery).values(rows)
    if again:
        statement = statement.on_conflict_do_update(
            index_elements=["endpoint_id", "position"],
            set_={"state": "pending", "attempts": 0, "next_attempt_at": now, "lease_owner": None},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["endpoint_id", "position"])
    await session.execute(statement)


async def record_own_event(
    *,
    session: AsyncSession,
    payload: EventData,
    subject: dict[str, str],
    audiences: Sequence[str],
) -> tuple[int, str]:
    """Record an event of this service straight into the feed (it is its own source: no
    outbox to pull); (position, id). No audience: an event only its endpoint receives."""
    now = datetime.now(UTC)
    sequence = await next_number(session, FeedCounter, "integrations")
    position = await next_number(session, FeedCounter, "feed")
    event_id = new_id("evt")
    body = json.dumps(
        {
            "id": event_id,
            "type": payload.event_type,
            "source": "integrations",
            "sequence": sequence,
            "occurred_at": now.isoformat().replace("+00:00", "Z"),
            "subject": subject,
            "data": payload.model_dump(mode="json"),
        },
        separators=(",", ":"),
    )
    await session.execute(
        sa.insert(FeedEvent).values(
            position=position,
            id=event_id,
            source="integrations",
            sequence=sequence,
            type=payload.event_type,
            subject_type=subject["type"],
            subject_id=subject["id"],
            occurred_at=now,
            received_at=now,
            body=body,
        )
    )
    numbered = await audience_rows(session=session, audiences=[(position, audiences)])
    if numbered:
        await session.execute(sa.insert(FeedAudience), numbered)
    return position, event_id
