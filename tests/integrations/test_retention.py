"""The feed keeps 30 days: older events, and finished deliveries and attempts, are purged;
what is younger, and pending work, stays (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
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


async def _age(api: Api, days: int) -> None:
    """Everything the integrations service holds happened `days` ago."""
    async with api.apps["integrations"].state.sessionmaker() as session:
        then = datetime.now(UTC) - timedelta(days=days)
        await session.execute(sa.update(FeedEvent).values(received_at=then))
        await session.execute(sa.update(WebhookDelivery).values(created_at=then))
        await session.execute(sa.update(WebhookAttempt).values(created_at=then))
        await session.commit()


async def test_a_backlog_larger_than_a_batch_goes_in_bounded_deletes(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = api.apps["integrations"]
    client = api.client("integrations", role="participant", org="buyer-1")
    await client.post("/webhook-endpoints", json={"url": receiver.url})
    for cycles in (1, 2, 3):
        await buy_credits(api, "buyer-1", cycles)
    await take_in(api)
    await deliver_all(app)
    assert len(receiver.received) == 9
    await _age(api, 31)
    monkeypatch.setattr(retention, "BATCH", 4)
    deletes: list[tuple[str, int]] = []

    def seen(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM"):
            deletes.append((statement.split()[2], cursor.rowcount))

    engine = app.state.engine.sync_engine
    event.listen(engine, "after_cursor_execute", seen)
    try:
        gone = await retention.purge(app.state.sessionmaker)
    finally:
        event.remove(engine, "after_cursor_execute", seen)
    assert gone == 9 + 9 * 2 + 9 + 9  # events, audience rows, attempts, deliveries
    for table in (FeedEvent, FeedAudience, WebhookAttempt, WebhookDelivery):
        assert await count(api, table) == 0
    for name in ("feed_event", "webhook_attempt", "webhook_delivery"):
        rows = [n for table, n in deletes if table == name]
        assert rows == [4, 4, 1], (name, deletes)  # three bounded deletes, all in one round


async def test_a_disabled_endpoints_pending_deliveries_wait_30_days_and_no_more(
    api: Api, receiver: Receiver
) -> None:
    """Kept while their events are, so enabling the endpoint again delivers them; after
    30 days they go with their events (never kept for ever)."""
    app = api.apps["integrations"]
    client = api.client("integrations", role="participant", org="buyer-1")
    made = (await client.post("/webhook-endpoints", json={"url": receiver.url})).json()
    path = f"/webhook-endpoints/{made['id']}"
    await buy_credits(api, "buyer-1", 1)
    await take_in(api)
    await delivery.fan_out(app.state.sessionmaker)
    await client.patch(path, json={"enabled": False})
    await deliver_all(app)
    assert receiver.received == []
    await _age(api, 29)
    assert await retention.purge(app.state.sessionmaker) == 0
    await client.patch(path, json={"enabled": True})
    await deliver_all(app)
    assert len(receiver.received) == 3

    await buy_credits(api, "buyer-1", 2)
    await take_in(api)
    await delivery.fan_out(app.state.sessionmaker)
    await client.patch(path, json={"enabled": False})
    await _age(api, 31)
    gone = await retention.purge(app.state.sessionmaker)
    assert gone == 6 + 6 * 2 + 3 + 6  # events, audience rows, attempts, deliveries
    assert await count(api, WebhookDelivery) == 0
    # An enabled endpoint's old pending delivery is the worker's: it ends as failed.
    await buy_credits(api, "buyer-2", 1)
    other = api.client("integrations", role="participant", org="buyer-2")
    await other.post("/webhook-endpoints", json={"url": receiver.url})
    await take_in(api)
    await delivery.fan_out(app.state.sessionmaker)
    await _age(api, 31)
    await retention.purge(app.state.sessionmaker)
    async with app.state.sessionmaker() as session:
        states = await session.scalars(sa.select(col(WebhookDelivery.state)))
        assert states.all() == ["pending"] * 3
    await deliver_all(app)
    async with app.state.sessionmaker() as session:
        states = await session.scalars(sa.select(col(WebhookDelivery.state)))
        assert states.all() == ["failed"] * 3
