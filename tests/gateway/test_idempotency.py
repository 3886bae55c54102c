"""Idempotency-Key (IETF draft) and cursor paging, on the probe's real database."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.gateway.probe import CALLS
from tests.gateway.world import Platform, assert_problem


def key() -> str:
    return uuid.uuid4().hex


async def test_same_key_same_body_replays(platform: Platform) -> None:
    k = key()
    async with platform.client("participant", f"org-{k}") as client:
        first = await client.post(
            "/v1/billing/moves", json={"amount": 5, "calls": 0}, headers={"Idempotency-Key": k}
        )
        again = await client.post(
            "/v1/billing/moves", json={"calls": 0, "amount": 5}, headers={"Idempotency-Key": k}
        )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


async def test_same_key_other_body_is_422(platform: Platform) -> None:
    k = key()
    async with platform.client("participant", f"org-{k}") as client:
        await client.post(
            "/v1/billing/moves", json={"amount": 5, "calls": 0}, headers={"Idempotency-Key": k}
        )
        other = await client.post(
            "/v1/billing/moves", json={"amount": 6, "calls": 0}, headers={"Idempotency-Key": k}
        )
    assert_problem(other, 422, detail_contains="already used")


async def test_key_is_scoped_to_the_organisation(platform: Platform) -> None:
    k = key()
    async with (
        platform.client("participant", f"a-{k}") as a,
        platform.client("participant", f"b-{k}") as b,
    ):
        one = await a.post(
            "/v1/billing/moves", json={"amount": 1, "calls": 0}, headers={"Idempotency-Key": k}
        )
        two = await b.post(
            "/v1/billing/moves", json={"amount": 1, "calls": 0}, headers={"Idempotency-Key": k}
        )
    assert "idempotent-replayed" not in two.headers
    assert one.json()["calls"] != two.json()["calls"]


async def test_missing_key_is_400(platform: Platform) -> None:
    async with platform.client("participant") as client:
        reply = await client.post("/v1/billing/moves", json={"amount": 1, "calls": 0})
    assert_problem(reply, 400, detail_contains="Idempotency-Key")


async def test_in_flight_is_409_then_replays(platform: Platform) -> None:
    k = key()
    async with platform.client("participant", f"org-{k}") as client:
        body = {"amount": 7, "calls": 400}  # the first request takes 0.4 s
        slow = asyncio.create_task(
            client.post("/v1/billing/moves", json=body, headers={"Idempotency-Key": k})
        )
        await asyncio.sleep(0.15)
        racing = await client.post("/v1/billing/moves", json=body, headers={"Idempotency-Key": k})
        first = await slow
        later = await client.post("/v1/billing/moves", json=body, headers={"Idempotency-Key": k})
    assert_problem(racing, 409, detail_contains="still being processed")
    assert racing.headers["retry-after"] == "1"
    assert first.status_code == 201
    assert later.json() == first.json()


async def test_failed_request_stores_nothing_and_can_be_retried(platform: Platform) -> None:
    k = key()
    async with platform.client("participant", f"org-{k}") as client:
        failed = await client.post(
            "/v1/billing/moves", json={"amount": -1, "calls": 0}, headers={"Idempotency-Key": k}
        )
        assert_problem(failed, 409)
        before = CALLS["moves"]
        retried = await client.post(
            "/v1/billing/moves", json={"amount": -1, "calls": 0}, headers={"Idempotency-Key": k}
        )
    assert_problem(retried, 409)
    assert CALLS["moves"] == before + 1  # ran again: nothing had been stored


@pytest.mark.postgres
async def test_concurrent_retries_run_once(platform: Platform) -> None:
    k = key()
    async with platform.client("participant", f"org-{k}") as client:
        before = CALLS["moves"]
        body = {"amount": 3, "calls": 50}
        replies = await asyncio.gather(
            *(
                client.post("/v1/billing/moves", json=body, headers={"Idempotency-Key": k})
                for _ in range(20)
            )
        )
    assert CALLS["moves"] == before + 1
    assert sorted({r.status_code for r in replies}) in ([201], [201, 409])
    assert (
        sum(r.status_code == 201 and "idempotent-replayed" not in r.headers for r in replies) == 1
    )


async def test_cursor_pagination_walks_every_item_once(platform: Platform) -> None:
    org = f"org-{key()}"
    async with platform.client("participant", org) as client:
        keys = sorted(f"k{i:03d}" for i in range(23))
        for k in keys:
            await client.post(
                "/v1/billing/moves", json={"amount": 1, "calls": 0}, headers={"Idempotency-Key": k}
            )
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params = {"limit": "10", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/billing/moves", params=params)).json()
            seen += [item["key"] for item in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == keys
        assert pages == 3
        assert_problem(await client.get("/v1/billing/moves", params={"cursor": "%%%"}), 400)
        assert_problem(await client.get("/v1/billing/moves", params={"limit": "501"}), 422)
        assert_problem(await client.get("/v1/billing/moves", params={"limit": "0"}), 422)
