"""Helpers for the portfolio tests: the reports test world (factories, TPAs, releases and
unlocks through the services' own APIs) and the portfolio's replies."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import ok
from tests.inprocess import Api
from tests.integrations.world import take_in
from tests.reports.world import World

__all__ = ["BUYER", "OTHER", "World", "portfolio", "rows", "summary"]

BUYER, OTHER = "buyer-1", "buyer-2"


def portfolio(api: Api, role: str, org: str, **kw: Any) -> httpx.AsyncClient:
    return api.client("integrations", role=role, org=org, **kw)


async def rows(
    api: Api, role: str, org: str, *, countries: list[str] | None = None, **params: Any
) -> dict[str, dict[str, Any]]:
    """The caller's rows by factory id (events taken in first); `countries`: an advisor's."""
    await take_in(api)
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        client = portfolio(api, role, org, countries=countries)
        page = ok(await client.get("/portfolio/factories", params=query))
        found.update({row["factory_id"]: row for row in page["items"]})
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def summary(api: Api, role: str, org: str, **params: Any) -> dict[str, Any]:
    await take_in(api)
    return dict(ok(await portfolio(api, role, org).get("/portfolio/summary", params=params)))
