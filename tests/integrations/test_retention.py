"""The feed keeps 30 days: older events, and finished deliveries and attempts, are purged;
what is younger, and pending work, stays (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col

from services.integrations.jobs import delivery, retention
from services.integrations.models import FeedAudience, FeedEvent, WebhookAttempt, WebhookDelivery
from tests.billing.world import buy_credits
from tests.inprocess import Api
from tests.integrations.world import Receiver, deliver_all, feed, take_in


async def count(api: Api, table: type) -> int:
    async with api.apps["integrations"].state.sessionmaker() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_thirty_days_are_kept_and_no_more(api: Api, receiver: Receiver) -> None:
    app = api.apps["integrations"]
    client = api.client("integrations", role="participant", org="buyer-1")
    await client.post("/webhook-endpoints", json={"url": receiver.url})
    await buy_credits(api, "buyer-1", 1)
    await take_in(api)
    await deliver_all(app)
    assert len(receiver.received) == 3
    assert await retention.purge(app.state.sessionmaker) == 0  # all younger than 30 days

    # A month later, a new event arrives; the old three and their finished work go.
    async with app.state.sessionmaker() as session:
        old = datetime.now(UTC) - retention.KEPT - timedelta(minutes=1)
        await session.execute(sa.update(FeedEvent).values(received_at=old))
        await session.execute(sa.update(WebhookDelivery).values(created_at=old))
        await session.execute(sa.update(WebhookAttempt).values(created_at=old))
        await session.commit()
    await buy_credits(api, "buyer-1", 2)
    await take_in(api)
    await delivery.fan_out(app.state.sessionmaker)  # their deliveries: pending, not purged
    gone = await retention.purge(app.state.sessionmaker)
    assert (
        gone == 3 + 3 * 2 + 3 + 3
    )  # events, audience rows (buyer, advisors), attempts, deliveries
    assert await count(api, FeedEvent) == 3
    assert await count(api, FeedAudience) == 3 * 2  # buyer-1 and every advisor
    left = (await feed(client))["items"]
    assert [e["sequence"] for e in left] == [4, 5, 6]  # the numbers go on
    async with app.state.sessionmaker() as session:
        pending = await session.scalars(sa.select(col(WebhookDelivery.state)))
        assert pending.all() == ["pending"] * 3
