"""What the integrations service forgets, and when: feed events after 30 days (the feed's
promise), and finished deliveries and attempts after the same 30 days (a redelivery can
only resend an event that is still kept). Pending deliveries of a forgotten event end as
`failed` at their next attempt ("no longer kept"), so nothing waits on a missing body.

Pending deliveries of a disabled endpoint are never attempted; they are kept so that
enabling the endpoint again (`PATCH {"enabled": true}`) delivers them, but only while
their events are: a pending delivery made more than 30 days ago for a disabled endpoint
is deleted with the finished ones (its event is gone, so no enabling could deliver it).
No row stays for ever.

Every replica runs the purge (hourly); deletes of the same rows just wait on each other.
Each delete is bounded (`BATCH` rows, oldest first, one transaction each) and repeated
while it finds rows, so a backlog of any size goes in one round without a transaction or
a lock that grows with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.integrations.models import (
    FeedAudience,
    FeedEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from shared.background import start_repeating, stop_repeating

__all__ = ["BATCH", "KEPT", "purge", "start_purging", "stop_purging"]

KEPT = timedelta(days=30)
BATCH = 5000
INTERVAL_S = 3600.0


def _deleted(result: sa.Result[object]) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _in_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    batch: sa.Select[Any],
    delete: Callable[[list[int]], list[sa.Delete]],
) -> int:
    """Delete what `batch` selects (at most `BATCH` keys, oldest first), one transaction a
    batch, until it selects nothing; how many rows went."""
    gone = 0
    while True:
        async with sessionmaker() as session:
            keys = [int(k) for k in (await session.scalars(batch)).all()]
            if not keys:
                return gone
            for statement in delete(keys):
                gone += _deleted(await session.execute(statement))
            await session.commit()
        if len(keys) < BATCH:
            return gone


async def purge(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime | None = None
) -> int:
    """One round: forget the events, and the finished work (and a disabled endpoint's
    pending work), older than `KEPT`; how many rows went."""
    before = (now or datetime.now(UTC)) - KEPT
    gone = await _in_batches(
        sessionmaker,
        (
            sa.select(col(FeedEvent.position))
            .where(col(FeedEvent.received_at) < before)
            .order_by(col(FeedEvent.position))
            .limit(BATCH)
        ),
        lambda positions: [
            sa.delete(FeedAudience).where(col(FeedAudience.position).in_(positions)),
            sa.delete(FeedEvent).where(col(FeedEvent.position).in_(positions)),
        ],
    )
    # Ids grow with time, so the oldest rows are the first of the primary key: each batch
    # reads about as many rows as it deletes.
    gone += await _in_batches(
        sessionmaker,
        (
            sa.select(col(WebhookAttempt.id))
            .where(col(WebhookAttempt.created_at) < before)
            .order_by(col(WebhookAttempt.id))
            .limit(BATCH)
        ),
        lambda ids: [sa.delete(WebhookAttempt).where(col(WebhookAttempt.id).in_(ids))],
    )
    disabled = sa.select(col(WebhookEndpoint.id)).where(sa.not_(col(WebhookEndpoint.enabled)))
    gone += await _in_batches(
        sessionmaker,
        (
            sa.select(col(WebhookDelivery.id))
            .where(
                col(WebhookDelivery.created_at) < before,
                sa.or_(
                    col(WebhookDelivery.state).in_(["succeeded", "failed"]),
                    col(WebhookDelivery.endpoint_id).in_(disabled),
                ),
            )
            .order_by(col(WebhookDelivery.id))
            .limit(BATCH)
        ),
        lambda ids: [sa.delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids))],
    )
    return gone


async def start_purging(app: FastAPI) -> None:
    # Off where the other loops are off (tests call `purge` themselves).
    interval = INTERVAL_S if app.state.settings.events_poll_s > 0 else 0
    start_repeating(app, "purger", lambda: purge(app.state.sessionmaker), interval=interval)


async def stop_purging(app: FastAPI) -> None:
    await stop_repeating(app, "purger")
