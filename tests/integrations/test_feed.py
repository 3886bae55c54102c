"""The event feed: what changed, for whom, in order (issue 10)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.billing.world import buy_credits, create_invoice, pay
from tests.inprocess import Api
from tests.integrations.world import Receiver, deliver_all, feed, take_in


def integrations(api: Api, role: str, org: str = "org-1", **kw: Any) -> httpx.AsyncClient:
    return api.client("integrations", role=role, org=org, **kw)


class TestFeed:
    async def test_a_purchase_is_three_events_in_order(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 12)
        assert await take_in(api) == 3
        page = await feed(integrations(api, "participant", "buyer-1"))
        events = page["items"]
        assert [e["type"] for e in events] == [
            "invoice.issued",
            "invoice.paid",
            "credits.purchased",
        ]
        assert [e["sequence"] for e in events] == [1, 2, 3]
        assert {e["source"] for e in events} == {"billing"}
        invoice_id = events[0]["subject"]["id"]
        assert events[0]["subject"] == {"type": "invoice", "id": invoice_id}
        assert events[1]["data"] == {
            "invoice_id": invoice_id,
            "org": "buyer-1",
            "kind": "credits",
            "year": 2025,
            "total": "18480.00",
            "currency": "USD",
        }
        assert events[2]["data"]["balance"] == 12
        assert page["next_cursor"] == events[-1]["id"]

    async def test_only_the_organisation_and_advisors_see_it(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        for role, org, seen in [
            ("participant", "buyer-2", 0),
            ("partner", "buyer-1-not", 0),
            ("factory", "buyer-1x", 0),
            ("advisor", "bw", 3),
        ]:
            assert len((await feed(integrations(api, role, org)))["items"]) == seen, role
        kh = integrations(api, "advisor", "bw", countries=["KH"])
        assert len((await feed(kh))["items"]) == 3  # billing serves every advisor

    async def test_pages_on_with_the_cursor_and_filters_by_type(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 1)
        await buy_credits(api, "buyer-1", 2)
        await take_in(api)
        client = integrations(api, "participant", "buyer-1")
        first = await feed(client, limit=4)
        rest = await feed(client, after=first["next_cursor"], limit=4)
        assert len(first["items"]) == 4 and len(rest["items"]) == 2
        positions = [e["id"] for e in first["items"] + rest["items"]]
        assert len(set(positions)) == 6
        empty = await feed(client, after=rest["next_cursor"])
        assert empty == {"items": [], "next_cursor": None}
        paid = await feed(client, types="invoice.paid,credits.purchased")
        assert [e["type"] for e in paid["items"]] == ["invoice.paid", "credits.purchased"] * 2
        repeated = await client.get("/events", params=[("types", "invoice.paid")] * 2)
        assert len(repeated.json()["items"]) == 2

    async def test_one_event_and_its_access(self, api: Api) -> None:
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        [event, *_] = (await feed(integrations(api, "participant", "buyer-1")))["items"]
        own = await integrations(api, "participant", "buyer-1").get(f"/events/{event['id']}")
        assert own.status_code == 200 and own.json() == event
        other = await integrations(api, "participant", "buyer-2").get(f"/events/{event['id']}")
        assert other.status_code == 404
        assert other.headers["content-type"] == "application/problem+json"


class TestBadInput:
    @pytest.mark.parametrize(
        ("params", "status"),
        [
            ({"types": "invoice.paid,not.a.type"}, 422),
            ({"after": "evt_doesnotexist"}, 400),
            ({"after": "not-an-event-id"}, 422),
            ({"limit": 501}, 422),
            ({"limit": 0}, 422),
        ],
    )
    async def test_a_clear_problem(self, api: Api, params: dict[str, Any], status: int) -> None:
        reply = await integrations(api, "participant", "buyer-1").get("/events", params=params)
        assert reply.status_code == status, reply.text
        assert reply.headers["content-type"] == "application/problem+json"

    async def test_needs_a_token(self, api: Api) -> None:
        assert (await api.client("integrations").get("/events")).status_code == 401


@pytest.mark.postgres
async def test_concurrent_writers_never_leave_a_gap(api: Api) -> None:
    """Many transactions record events at once, committing in any order, while the puller
    reads: every event is taken in exactly once, in gap-free sequence."""
    participants = [f"buyer-{n}" for n in range(12)]

    async def buy(org: str) -> None:
        client = api.client("billing", role="participant", org=org)
        invoice = await create_invoice(
            client, {"kind": "credits", "year": 2025, "report_cycles": 3}
        )
        await pay(api, invoice)

    async def keep_pulling(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await take_in(api)
            await asyncio.sleep(0)

    stop = asyncio.Event()
    puller = asyncio.create_task(keep_pulling(stop))
    await asyncio.gather(*(buy(org) for org in participants * 2))
    stop.set()
    await puller
    await take_in(api)
    async with api.apps["billing"].state.engine.connect() as connection:
        sequences = (await connection.execute(text("SELECT sequence FROM outbox_event"))).scalars()
        assert sorted(sequences) == list(range(1, 24 * 3 + 1))
    everything = await feed(integrations(api, "advisor", "bw"), limit=500)
    assert [e["sequence"] for e in everything["items"]] == list(range(1, 24 * 3 + 1))
    for org in participants:
        mine = await feed(integrations(api, "participant", org))
        assert [e["type"] for e in mine["items"]].count("credits.purchased") == 2


async def test_two_pullers_take_each_batch_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.integrations.jobs import ingest

    await buy_credits(api, "buyer-1", 1)
    app = api.apps["integrations"]
    client = app.state.sources["billing"]
    first = await ingest.pull_source(app.state.sessionmaker, client)
    monkeypatch.setattr(ingest, "OWNER", f"other-replica-{uuid.uuid4().hex}")
    assert await ingest.pull_source(app.state.sessionmaker, client) == 0  # leased to the first
    monkeypatch.undo()
    assert first == 3
    assert await ingest.pull_source(app.state.sessionmaker, client) == 0  # nothing new


async def test_an_organisation_numbers_its_own_events_without_gaps(
    api: Api, receiver: Receiver
) -> None:
    """Organisations see their feed's own gap-free number, not the source's: the source's
    gaps would count the events they may not see (the unannounced assessment's among them).
    Webhook bodies carry the same number; advisors keep the source's."""
    hooks = integrations(api, "participant", "buyer-1")
    made = (await hooks.post("/webhook-endpoints", json={"url": receiver.url})).json()
    for org in ["buyer-1", "buyer-2", "buyer-1", "buyer-3", "buyer-1"]:
        await buy_credits(api, org, 1)
    await take_in(api)
    mine = (await feed(hooks))["items"]
    assert [e["sequence"] for e in mine] == list(range(1, 10))
    source = [e["sequence"] for e in (await feed(integrations(api, "advisor", "bw")))["items"]]
    assert source == list(range(1, 16))
    again = (await hooks.get(f"/events/{mine[4]['id']}")).json()
    assert again == mine[4]
    await deliver_all(api.apps["integrations"])
    assert sorted(receiver.bodies, key=lambda b: b["sequence"]) == mine
    receiver.received.clear()
    await hooks.post(f"/webhook-endpoints/{made['id']}/test")
    await deliver_all(api.apps["integrations"])
    assert [b["sequence"] for b in receiver.bodies] == [0]  # not in the feed: no number
