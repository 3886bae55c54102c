"""Helpers for the integrations tests: events are taken in when a test says so."""

from __future__ import annotations

from typing import Any

import httpx

from services.integrations import ingest
from tests.conftest import Api


async def take_in(api: Api) -> int:
    """Pull every source until nothing is left; how many events were taken in."""
    total = 0
    while taken := await ingest.pull_all(api.apps["integrations"]):
        total += taken
    return total


async def feed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    reply = await client.get("/events", params=params)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body
