"""Supplier quick-find (the guide's Appendix 2): buyers look a supplier up in the registry
by name, OS ID or country and see its public fields only — name, country, region, OS ID,
whether it is enrolled, and whether their own organisation already holds (or asked for)
third-party access. Never the address or other contact data, never other buyers.

Names are found with the matcher (`matching.CountryIndex.search`: the same keys and
scores as list matching, plus partial names); OS IDs exactly; a country alone pages its
registry by id. Each organisation has its own budget of searches per minute on top of the
gateway's (`BW_SUPPLIER_SEARCH_PER_MINUTE`, `BW_SUPPLIER_SEARCH_BURST`): 429 with
Retry-After beyond it.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from sqlmodel import col

from services.eligibility.clients import ReportsDep
from services.eligibility.deps import RegistryDep
from services.eligibility.fields import CountryCode
from services.eligibility.models import Factory
from services.eligibility.schemas import SupplierPage, SupplierPublic
from services.eligibility.store import factories_by_id, registry_countries
from shared.auth import BuyerOrAdvisor, Principal
from shared.db import SessionDep
from shared.errors import TooManyRequests, Unprocessable
from shared.pagination import PageDep, SortKey, page_list, paginate, sort_key
from shared.ratelimit import RateLimiter, make_limiter, retry_after
from shared.scope import ensure_in_scope, scope_countries
from shared.types import text

__all__ = ["close_limiter", "install_limiter", "router"]

router = APIRouter(tags=["suppliers"])

MAX_NAME_HITS = 200  # a quick-find, not an export: the best 200 names at most
# Name hits page by (rank, id): rank = 1000 - score x 10, so the best come first.
RANKED_KEY = [SortKey(type=int, maximum=1000), SortKey(type=str)]
BY_ID_KEY = [sort_key(Factory.id, str)]

SupplierName = Annotated[str, text(max_length=300)]


async def install_limiter(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.supplier_search_limiter = make_limiter(
        redis_url=settings.redis_url,
        per_minute=settings.supplier_search_per_minute,
        burst=settings.supplier_search_burst,
        prefix="eligibility-suppliers:",
    )


async def close_limiter(app: FastAPI) -> None:
    limiter: RateLimiter | None = getattr(app.state, "supplier_search_limiter", None)
    if limiter is not None:
        await limiter.close()


async def _within_budget(request: Request, principal: BuyerOrAdvisor) -> Principal:
    limiter: RateLimiter = request.app.state.supplier_search_limiter
    decision = await limiter.acquire(f"org:{principal.org}")
    if not decision.allowed:
        settings = request.app.state.settings
        raise TooManyRequests(
            f"Too many supplier searches for {principal.org!r}: the limit is "
            f"{settings.supplier_search_per_minute} per minute (bursts of "
            f"{settings.supplier_search_burst}); retry after the delay given.",
            headers={"Retry-After": retry_after(decision.wait_s)},
        )
    return principal


Searcher = Annotated[Principal, Depends(_within_budget)]


def _countries(principal: Principal, country: str | None) -> list[str] | None:
    """The countries searched: the one asked for (an advisor: within its programmes), else
    an advisor's programmes; None: every country."""
    if country is not None:
        ensure_in_scope(principal, country)
        return [country]
    covered = scope_countries(principal)
    return None if covered is None else list(covered)


@router.get("/suppliers", response_model=SupplierPage)
async def search_suppliers(
    principal: Searcher,
    session: SessionDep,
    registry: RegistryDep,
    reports: ReportsDep,
    page: PageDep,
    q: Annotated[
        SupplierName | None,
        Query(
            min_length=2,
            description="A supplier's name (fuzzy: case, accents, legal "
            "forms and one typo do not matter; a part of the name finds it too).",
        ),
    ] = None,
    os_id: Annotated[
        SupplierName | None,
        Query(min_length=1, max_length=64, description="An Open Supply Hub id (exact)."),
    ] = None,
    country: Annotated[CountryCode | None, Query(description="Only this country.")] = None,
) -> SupplierPage:
    """Find suppliers in the registry by name, OS ID or country: their public fields, whether
    they are enrolled and your organisation's third-party access state for each. Name hits
    come best first (`match_score`), the others by id."""
    if q is None and os_id is None and country is None:
        raise Unprocessable("Search by `q` (a name), `os_id` or `country`.")
    if q is not None and os_id is not None:
        raise Unprocessable("Search by `q` or by `os_id`, not both: an OS ID names one supplier.")
    countries = _countries(principal, country)
    scores: dict[str, float] = {}
    if q is not None:
        if countries is None:
            countries = await registry_countries(session=session)
        indexes = await registry.indexes(session=session, countries=countries)
        hits = [hit for index in indexes.values() for hit in index.search(q, limit=MAX_NAME_HITS)]
        hits.sort(key=lambda hit: (-hit.score, hit.factory_id))
        chosen, cursor = page_list(
            hits[:MAX_NAME_HITS],
            page,
            key=RANKED_KEY,
            value=lambda hit: (1000 - round(hit.score * 10), hit.factory_id),
        )
        scores = {hit.factory_id: hit.score for hit in chosen}
        found = await factories_by_id(session=session, ids=scores)
        rows = [found[hit.factory_id] for hit in chosen if hit.factory_id in found]
    else:
        statement = sa.select(Factory)
        if countries is not None:
            statement = statement.where(col(Factory.country).in_(countries))
        if os_id is not None:
            statement = statement.where(sa.func.upper(col(Factory.os_id)) == os_id.upper())
        rows, cursor = await paginate(session, statement, page, key=BY_ID_KEY)
    states: dict[str, str] = {}
    if principal.is_buyer and rows:
        states = await reports.tpa_states(org=principal.org, factory_ids=[r.id for r in rows])
    items = [
        SupplierPublic(
            id=row.id,
            name=row.name,
            country=row.country,
            region=row.region,
            os_id=row.os_id,
            enrolled=row.enrolment_status == "enrolled",
            tpa_status=states.get(row.id),
            has_tpa=states.get(row.id) == "approved",
            match_score=scores.get(row.id),
        )
        for row in rows
    ]
    return SupplierPage(items=items, next_cursor=cursor)
