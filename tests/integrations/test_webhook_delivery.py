"""Webhook delivery: signed with Standard Webhooks, retried, disabled after the schedule,
never hung by a bad receiver, never two workers on one delivery (issue 10)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiohttp import web
from fastapi import FastAPI
from sqlmodel import col
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.integrations.jobs import delivery, ssrf
from services.integrations.models import FeedEvent, WebhookDelivery
from tests.billing.world import buy_credits
from tests.inprocess import Api
from tests.integrations.world import Receiver, deliver_all, feed, take_in


def hooks(api: Api, role: str = "participant", org: str = "buyer-1") -> httpx.AsyncClient:
    return api.client("integrations", role=role, org=org)


def app_of(api: Api) -> FastAPI:
    return api.apps["integrations"]


async def register(client: httpx.AsyncClient, url: str, **body: Any) -> dict[str, Any]:
    reply = await client.post("/webhook-endpoints", json={"url": url, **body})
    assert reply.status_code == 201, reply.text
    made: dict[str, Any] = reply.json()
    return made


async def attempts(client: httpx.AsyncClient, endpoint_id: str) -> list[dict[str, Any]]:
    reply = await client.get(f"/webhook-endpoints/{endpoint_id}/attempts", params={"limit": 500})
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


@pytest.fixture
def fast(api: Api) -> Any:
    """A short retry schedule and timeout, put back after the test (with the probe interval
    and production mode, which some tests change)."""
    config: delivery.WebhookConfig = app_of(api).state.webhooks
    saved = (config.schedule, config.timeout_s, config.probe_s, config.production)
    config.schedule, config.timeout_s = (0.0, 0.0), 2.0
    yield config
    config.schedule, config.timeout_s, config.probe_s, config.production = saved


class TestDelivery:
    async def test_events_arrive_signed_as_the_feed_shows_them(
        self, api: Api, receiver: Receiver
    ) -> None:
        client = hooks(api)
        made = await register(client, receiver.url)
        await buy_credits(api, "buyer-1", 2)
        await buy_credits(api, "buyer-2", 1)  # not this organisation's
        await take_in(api)
        assert await deliver_all(app_of(api)) >= 3
        page = await feed(client)
        assert sorted(receiver.bodies, key=lambda b: b["sequence"]) == page["items"]
        async with app_of(api).state.sessionmaker() as session:
            stored = set((await session.scalars(sa.select(col(FeedEvent.body)))).all())
        assert {body.decode() for _, body in receiver.received} <= stored  # byte for byte
        verifier = Webhook(made["secret"])
        for headers, body in receiver.received:
            assert verifier.verify(body, headers)["id"] == headers["webhook-id"]
            assert headers["webhook-signature"].startswith("v1,")
            assert headers["content-type"] == "application/json"
            with pytest.raises(WebhookVerificationError):
                Webhook("whsec_" + "QUFB" * 8).verify(body, headers)
        tries = await attempts(client, made["id"])
        assert len(tries) == 3 and {t["status_code"] for t in tries} == {204}
        assert all(t["error"] is None and t["attempt"] == 1 for t in tries)
        assert await deliver_all(app_of(api)) == 0  # delivered once

    async def test_event_type_filter(self, api: Api, receiver: Receiver) -> None:
        await register(hooks(api), receiver.url, event_types=["invoice.paid"])
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        await deliver_all(app_of(api))
        assert [b["type"] for b in receiver.bodies] == ["invoice.paid"]

    async def test_only_events_after_registration_unless_redelivered(
        self, api: Api, receiver: Receiver
    ) -> None:
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        client = hooks(api)
        made = await register(client, receiver.url)
        await deliver_all(app_of(api))
        assert receiver.received == []
        path = f"/webhook-endpoints/{made['id']}/redeliver"
        queued = await client.post(path, json={"since": "2020-01-01T00:00:00Z"})
        assert queued.status_code == 202 and queued.json()["queued"] == 3
        await deliver_all(app_of(api))
        assert len(receiver.received) == 3
        one = receiver.bodies[0]["id"]
        assert (await client.post(path, json={"event_id": one})).json()["queued"] == 1
        await deliver_all(app_of(api))
        assert [b["id"] for b in receiver.bodies].count(one) == 2

    async def test_the_test_event_goes_to_that_endpoint_only(
        self, api: Api, receiver: Receiver
    ) -> None:
        client = hooks(api)
        made = await register(client, receiver.url)
        other = await register(client, receiver.url + "?other")
        sent = await client.post(f"/webhook-endpoints/{made['id']}/test")
        assert sent.status_code == 202, sent.text
        await deliver_all(app_of(api))
        assert len(receiver.received) == 1
        body = receiver.bodies[0]
        assert body["type"] == "webhook.test" and body["id"] == sent.json()["event_id"]
        assert body["data"]["endpoint_id"] == made["id"]
        assert body["source"] == "integrations"
        Webhook(made["secret"]).verify(receiver.received[0][1], receiver.received[0][0])
        assert (await feed(client))["items"] == []  # in no feed
        assert await attempts(client, other["id"]) == []

    async def test_rotation_overlap_both_secrets_verify(self, api: Api, receiver: Receiver) -> None:
        client = hooks(api)
        made = await register(client, receiver.url)
        rotated = (await client.post(f"/webhook-endpoints/{made['id']}/rotate-secret")).json()
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        await deliver_all(app_of(api))
        headers, body = receiver.received[0]
        assert len(headers["webhook-signature"].split(" ")) == 2
        Webhook(made["secret"]).verify(body, headers)
        Webhook(rotated["secret"]).verify(body, headers)

    async def test_through_the_gateway(self, gateway_api: Api, receiver: Receiver) -> None:
        client = gateway_api.client("gateway", role="participant", org="buyer-1")
        made = await client.post("/v1/integrations/webhook-endpoints", json={"url": receiver.url})
        assert made.status_code == 201, made.text
        path = f"/v1/integrations/webhook-endpoints/{made.json()['id']}"
        assert (await client.post(path + "/test")).status_code == 202
        await deliver_all(app_of(gateway_api))
        Webhook(made.json()["secret"]).verify(receiver.received[0][1], receiver.received[0][0])
        attempts = (await client.get(path + "/attempts")).json()["items"]
        assert [a["status_code"] for a in attempts] == [204]


class TestRetries:
    async def test_a_receiver_failing_twice_gets_it_on_the_third_try(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        fast.schedule = (0.0, 0.0, 0.0)
        receiver.answer = lambda n: 503 if n <= 2 else 200
        client = hooks(api)
        made = await register(client, receiver.url)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        await deliver_all(app_of(api))
        tries = await attempts(client, made["id"])
        assert [(t["attempt"], t["status_code"]) for t in tries] == [(1, 503), (2, 503), (3, 200)]
        assert tries[0]["error"] == "HTTP 503" and tries[0]["next_retry_at"] is not None
        assert tries[2]["next_retry_at"] is None
        assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # one id throughout
        assert (await client.get(f"/webhook-endpoints/{made['id']}")).json()["enabled"] is True

    async def test_backoff_follows_the_schedule_with_jitter(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        fast.schedule = (300.0, 3600.0)
        receiver.answer = lambda n: 500
        client = hooks(api)
        made = await register(client, receiver.url)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        before = datetime.now(UTC)
        await deliver_all(app_of(api))
        tries = await attempts(client, made["id"])
        assert len(tries) == 1  # the retry is not due yet
        wait = (datetime.fromisoformat(tries[0]["next_retry_at"]) - before).total_seconds()
        assert 300 * 0.9 - 1 <= wait <= 300 * 1.1 + 1
        assert delivery.DEFAULT_SCHEDULE[0] == 5 and sum(delivery.DEFAULT_SCHEDULE) > 3 * 86400

    async def test_a_receiver_coming_back_gets_its_backlog_at_once(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        """Down: three events wait on an hour's retry. Back: the first success (a new
        event) makes the three due now, without spending their attempts."""
        fast.schedule = (3600.0, 3600.0)
        receiver.answer = lambda n: 503 if n <= 3 else 204
        client = hooks(api)
        await register(client, receiver.url)
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        await deliver_all(app_of(api))
        assert receiver.calls == 3  # all failed; retries an hour away
        await buy_credits(api, "buyer-1", 2)  # the receiver is back: new events succeed
        await take_in(api)
        await deliver_all(app_of(api))
        assert receiver.calls == 3 + 3 + 3
        assert sorted(b["sequence"] for b in receiver.bodies[-3:]) == [1, 2, 3]  # the backlog
        async with app_of(api).state.sessionmaker() as session:
            states = await session.scalars(sa.select(col(WebhookDelivery.state)))
            assert states.all() == ["succeeded"] * 6

    async def test_a_receiver_coming_back_with_no_new_event_is_probed_and_gets_everything(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        """Down: three events fail, their retries an hour away; probes (one per interval)
        fail without counting, so a schedule of two attempts does not disable the endpoint.
        Back, with no new event: the next probe succeeds and releases the rest (at the
        default 30 s interval: everything within about 30 s of the return)."""
        fast.schedule, fast.probe_s = (3600.0,), 1.0
        down = True
        receiver.answer = lambda n: 503 if down else 204
        client = hooks(api)
        made = await register(client, receiver.url)
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        await deliver_all(app_of(api))
        assert receiver.calls == 3
        scheduled = await _pending(api)
        assert [attempts for attempts, _ in scheduled.values()] == [1, 1, 1]
        for _ in range(3):  # three probe intervals, a worker round in each: three probes
            await asyncio.sleep(fast.probe_s + 0.05)
            await delivery.work_once(app_of(api))
        assert receiver.calls == 3 + 3
        assert await _pending(api) == scheduled  # attempt counts and retry times unchanged
        tries = await attempts(client, made["id"])
        probes = [t for t in tries if "probe" in (t["error"] or "")]
        assert len(probes) == 3 and {t["attempt"] for t in probes} == {1}
        assert {t["next_retry_at"] for t in probes} <= {t["next_retry_at"] for t in tries[:3]}
        read = (await client.get(f"/webhook-endpoints/{made['id']}")).json()
        assert read["enabled"] is True

        down = False  # back; nothing new happens
        started = asyncio.get_running_loop().time()
        while await _pending(api) and asyncio.get_running_loop().time() - started < 10:
            await delivery.work_once(app_of(api))
            await asyncio.sleep(0.05)
        took = asyncio.get_running_loop().time() - started
        assert await _pending(api) == {}
        assert took < fast.probe_s + 2  # the "within a minute", at this interval
        assert receiver.calls == 3 + 3 + 3  # one probe, then the two it released
        assert sorted(b["sequence"] for b in receiver.bodies[-3:]) == [1, 2, 3]
        async with app_of(api).state.sessionmaker() as session:
            states = await session.scalars(sa.select(col(WebhookDelivery.state)))
            assert states.all() == ["succeeded"] * 3

    async def test_the_schedule_still_disables_a_receiver_that_stays_down(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        """Probes neither postpone the schedule's retries nor end it early: its attempts
        come when due and the last one disables the endpoint."""
        fast.schedule, fast.probe_s = (1.0,), 0.2
        receiver.answer = lambda n: 500
        client = hooks(api)
        made = await register(client, receiver.url)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        started = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - started < 3:
            await deliver_all(app_of(api))
            await asyncio.sleep(0.05)
        tries = await attempts(client, made["id"])
        counted = [t["attempt"] for t in tries if "probe" not in (t["error"] or "")]
        assert counted == [1, 2]
        assert 1 <= len(tries) - len(counted) <= 6  # probes between the two
        read = (await client.get(f"/webhook-endpoints/{made['id']}")).json()
        assert read["enabled"] is False

    async def test_failing_the_whole_schedule_disables_and_tells_the_owner(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        receiver.answer = lambda n: 500
        client = hooks(api)
        made = await register(client, receiver.url)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        await deliver_all(app_of(api))
        tries = await attempts(client, made["id"])
        assert [t["attempt"] for t in tries] == [1, 2, 3]  # first try + the schedule's two
        read = (await client.get(f"/webhook-endpoints/{made['id']}")).json()
        assert read["enabled"] is False and "HTTP 500" in read["disabled_reason"]
        events = (await feed(client))["items"]
        assert [e["type"] for e in events] == ["webhook_endpoint.disabled"]
        assert events[0]["data"]["endpoint_id"] == made["id"]
        assert (await feed(hooks(api, org="buyer-2")))["items"] == []
        # Nothing more goes to a disabled endpoint; enabling it again resumes.
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        await deliver_all(app_of(api))
        assert len(receiver.received) == 3
        resumed = await client.patch(f"/webhook-endpoints/{made['id']}", json={"enabled": True})
        assert resumed.json()["disabled_reason"] is None

    async def test_an_advisors_disabled_endpoint_is_in_the_advisors_feed(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        receiver.answer = lambda n: 500
        kh = api.client("integrations", role="advisor", org="bw", countries=["KH"])
        made = await register(kh, receiver.url)
        await kh.post(f"/webhook-endpoints/{made['id']}/test")
        await deliver_all(app_of(api))
        assert [e["type"] for e in (await feed(kh))["items"]] == ["webhook_endpoint.disabled"]
        assert (await feed(hooks(api, org="bw")))["items"] == []  # a buyer of org "bw": no

    async def test_another_endpoint_of_the_owner_receives_the_disabled_event(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        receiver.answer = lambda n: 410 if n <= 3 else 200
        client = hooks(api)
        broken = await register(client, receiver.url + "?broken")
        await register(client, receiver.url, event_types=["webhook_endpoint.disabled"])
        await client.post(f"/webhook-endpoints/{broken['id']}/test")
        await deliver_all(app_of(api))
        assert receiver.bodies[-1]["type"] == "webhook_endpoint.disabled"


async def _slow(seconds: float) -> web.StreamResponse:
    await asyncio.sleep(seconds)
    return web.Response(status=200)


def _redirect() -> web.StreamResponse:
    return web.Response(status=302, headers={"Location": "http://127.0.0.1:1/elsewhere"})


def _huge(request_count: int) -> web.StreamResponse:
    return web.Response(status=200, body=b"x" * (20 * 1024 * 1024))


class TestBadReceivers:
    @pytest.mark.parametrize(
        ("answer", "status", "error"),
        [
            (lambda n: _redirect(), 302, "redirect"),
            (lambda n: 301, 301, "redirect"),
            (lambda n: 404, 404, "HTTP 404"),
            (lambda n: _slow(30), None, "timed out"),
        ],
        ids=["302", "301", "404", "never-answers"],
    )
    async def test_recorded_as_failed_attempts(
        self,
        api: Api,
        receiver: Receiver,
        fast: delivery.WebhookConfig,
        answer: Any,
        status: int | None,
        error: str,
    ) -> None:
        fast.schedule, fast.timeout_s = (), 1.0
        receiver.answer = answer
        client = hooks(api)
        made = await register(client, receiver.url)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        started = asyncio.get_running_loop().time()
        await deliver_all(app_of(api))
        assert asyncio.get_running_loop().time() - started < 5
        tries = await attempts(client, made["id"])
        assert len(tries) == 1 and tries[0]["status_code"] == status
        assert error in tries[0]["error"]
        assert receiver.calls == 1  # a redirect is not followed

    async def test_a_20_mb_reply_is_not_read(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        receiver.answer = _huge
        client = hooks(api)
        made = await register(client, receiver.url)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        await deliver_all(app_of(api))
        tries = await attempts(client, made["id"])
        assert [(t["status_code"], t["error"]) for t in tries] == [(200, None)]

    async def test_a_resolver_that_never_answers_is_a_timed_out_attempt(
        self, api: Api, fast: delivery.WebhookConfig, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The address check (production resolves the host before every delivery) is
        inside the attempt's deadline: a slow resolver cannot hold the worker."""
        fast.schedule, fast.timeout_s = (), 1.0
        client = hooks(api)
        made = await register(client, "https://localhost:9/hook")
        fast.production = True

        async def slow_resolver(host: str, port: int) -> list[str]:
            await asyncio.sleep(60)
            return ["93.184.216.34"]

        monkeypatch.setattr(ssrf, "resolve", slow_resolver)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        started = asyncio.get_running_loop().time()
        await deliver_all(app_of(api))
        assert asyncio.get_running_loop().time() - started < 3
        tries = await attempts(client, made["id"])
        assert [(t["status_code"], t["error"]) for t in tries] == [(None, "timed out after 1 s")]

    async def test_a_receiver_that_is_down_is_a_failed_attempt(
        self, api: Api, fast: delivery.WebhookConfig
    ) -> None:
        fast.schedule = ()
        from shared.stack import free_port

        client = hooks(api)
        made = await register(client, f"http://127.0.0.1:{free_port()}/hook")
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        await deliver_all(app_of(api))
        tries = await attempts(client, made["id"])
        assert tries[0]["status_code"] is None and "Connect" in tries[0]["error"]


@pytest.mark.postgres
class TestWorkers:
    async def test_two_workers_never_take_one_delivery(self, api: Api, receiver: Receiver) -> None:
        client = hooks(api)
        made = await register(client, receiver.url)
        for _ in range(10):
            await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        app = app_of(api)
        await delivery.fan_out(app.state.sessionmaker)
        config: delivery.WebhookConfig = app.state.webhooks
        claims = await asyncio.gather(
            *(delivery.claim(app.state.sessionmaker, config, owner=f"worker-{n}") for n in range(4))
        )
        ids = [job.id for jobs in claims for job in jobs]
        assert len(ids) == 30 and len(set(ids)) == 30
        # Each worker delivers its own; the others' results cannot overwrite a row.
        await asyncio.gather(*(delivery.deliver_due(app, owner=f"worker-{n}") for n in range(4)))
        async with app.state.sessionmaker() as session:
            states = (await session.scalars(sa.select(col(WebhookDelivery.state)))).all()
        assert states.count("pending") == 30  # claimed rows are leased, not yet due
        await _finish_claimed(app, claims)
        assert len(receiver.received) == 30
        assert len({h["webhook-id"] for h, _ in receiver.received}) == 30
        assert len(await attempts(client, made["id"])) == 30

    async def test_workers_racing_on_due_rows_deliver_each_once(
        self, api: Api, receiver: Receiver
    ) -> None:
        client = hooks(api)
        await register(client, receiver.url)
        for _ in range(8):
            await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        app = app_of(api)
        await delivery.fan_out(app.state.sessionmaker)
        config: delivery.WebhookConfig = app.state.webhooks
        saved, config.batch = config.batch, 3  # many small claims, interleaved
        try:
            for _ in range(10):
                done = await asyncio.gather(
                    *(delivery.deliver_due(app, owner=f"replica-{n}") for n in range(3))
                )
                if not any(done):
                    break
        finally:
            config.batch = saved
        ids = [h["webhook-id"] for h, _ in receiver.received]
        assert len(ids) == 24 and len(set(ids)) == 24

    async def test_one_probe_per_failing_endpoint_whatever_the_replicas(
        self, api: Api, receiver: Receiver, fast: delivery.WebhookConfig
    ) -> None:
        fast.schedule, fast.probe_s = (3600.0,), 1.0
        receiver.answer = lambda n: 503
        client = hooks(api)
        first = await register(client, receiver.url)
        second = await register(client, receiver.url + "?second")
        await buy_credits(api, "buyer-1", 1)
        await take_in(api)
        await deliver_all(app_of(api))
        assert receiver.calls == 6  # three events to each; retries an hour away
        await asyncio.sleep(fast.probe_s + 0.05)
        app = app_of(api)
        probes = await asyncio.gather(
            *(delivery.probe(app.state.sessionmaker, fast, owner=f"replica-{n}") for n in range(4))
        )
        taken = [job for jobs in probes for job in jobs]
        assert sorted(job.endpoint_id for job in taken) == sorted([first["id"], second["id"]])
        assert all(job.is_probe and job.attempt == 1 for job in taken)
        # Until the interval has passed again, nobody probes them, even with their probes
        # still out (leased).
        again = await asyncio.gather(
            *(delivery.probe(app.state.sessionmaker, fast, owner=f"replica-{n}") for n in range(4))
        )
        assert again == [[], [], [], []]

    async def test_a_dead_workers_lease_runs_out_and_the_row_is_delivered(
        self, api: Api, receiver: Receiver
    ) -> None:
        client = hooks(api)
        made = await register(client, receiver.url)
        await client.post(f"/webhook-endpoints/{made['id']}/test")
        app = app_of(api)
        jobs = await delivery.claim(app.state.sessionmaker, app.state.webhooks, owner="dead")
        assert len(jobs) == 1
        assert await deliver_all(app) == 0  # leased to the "dead" worker
        async with app.state.sessionmaker() as session:
            await session.execute(
                sa.update(WebhookDelivery).values(next_attempt_at=datetime.now(UTC))
            )
            await session.commit()
        await deliver_all(app)
        assert len(receiver.received) == 1
        tries = await attempts(client, made["id"])
        assert [t["attempt"] for t in tries] == [2]  # the lost try still counts


async def _pending(api: Api) -> dict[int, tuple[int, datetime]]:
    """Each pending delivery's attempt count and next attempt time."""
    async with app_of(api).state.sessionmaker() as session:
        rows = await session.execute(
            sa.select(
                col(WebhookDelivery.id),
                col(WebhookDelivery.attempts),
                col(WebhookDelivery.next_attempt_at),
            )
            .where(col(WebhookDelivery.state) == "pending")
            .order_by(col(WebhookDelivery.id))
        )
        return {int(i or 0): (n, at) for i, n, at in rows.all()}


async def _finish_claimed(app: FastAPI, claims: list[list[delivery.Claimed]]) -> None:
    """Attempt each worker's claimed rows as that worker."""

    async def run(owner: str, jobs: list[delivery.Claimed]) -> None:
        for job in jobs:
            await delivery.deliver(app, [job], owner=owner)

    await asyncio.gather(*(run(f"worker-{n}", jobs) for n, jobs in enumerate(claims)))
