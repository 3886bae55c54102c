"""What the integrations service forgets, and when: feed events after 30 days (the feed's
promise), and finished deliveries and attempts after the same 30 days (a redelivery can
only resend an event that is still kept). Pending deliveries of a forgotten event end as
`failed` at their next attempt ("no longer kept"), so nothing waits on a missing body.

Every replica runs the purge (hourly); deletes of the same rows just wait on each other,
and each round removes at most `BATCH` events so no transaction grows with the backlog.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.integrations.models import FeedAudience, FeedEvent, WebhookAttempt, WebhookDelivery
from shared.background import start_repeating, stop_repeating

__all__ = ["KEPT", "purge", "start_purging", "stop_purging"]

KEPT = timedelta(days=30)
BATCH = 5000
INTERVAL_S = 3600.0


def _deleted(result: sa.Result[object]) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime | None = None
) -> int:
    """One round: forget up to `BATCH` old events and the finished work older than `KEPT`;
    how many rows went."""
    before = (now or datetime.now(UTC)) - KEPT
    async with sessionmaker() as session:
        old = (
            sa.select(col(FeedEvent.position))
            .where(col(FeedEvent.received_at) < before)
            .order_by(col(FeedEvent.position))
            .limit(BATCH)
        )
        positions = list((await session.scalars(old)).all())
        gone = 0
        if positions:
            gone += _deleted(
                await session.execute(
                    sa.delete(FeedAudience).where(col(FeedAudience.position).in_(positions))
                )
            )
            gone += _deleted(
                await session.execute(
                    sa.delete(FeedEvent).where(col(FeedEvent.position).in_(positions))
                )
            )
        gone += _deleted(
            await session.execute(
                sa.delete(WebhookAttempt).where(col(WebhookAttempt.created_at) < before)
            )
        )
        gone += _deleted(
            await session.execute(
                sa.delete(WebhookDelivery).where(
                    col(WebhookDelivery.state).in_(["succeeded", "failed"]),
                    col(WebhookDelivery.created_at) < before,
                )
            )
        )
        await session.commit()
    return gone


async def start_purging(app: FastAPI) -> None:
    # Off where the other loops are off (tests call `purge` themselves).
    interval = INTERVAL_S if app.state.settings.events_poll_s > 0 else 0
    start_repeating(app, "purger", lambda: purge(app.state.sessionmaker), interval=interval)


async def stop_purging(app: FastAPI) -> None:
    await stop_repeating(app, "purger")
