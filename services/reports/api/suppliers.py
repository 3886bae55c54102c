"""Supplier quick-find (the guide's Appendix 2): buyers look a supplier up in the registry
by name, OS ID or country and see its public fields only — name, country, region, OS ID,
whether it is enrolled, and whether their own organisation already holds (or asked for)
third-party access. Never the address or other contact data, never other buyers.

The registry (eligibility's `GET /internal/suppliers`) finds the suppliers and pages them
(this list's signed cursor wraps the registry's); reports adds the caller's TPA states from its
own access requests. Reports calls eligibility, never the other way round, so the call
graph stays acyclic (services/INTERNAL_API.md). Each organisation has its own budget of
searches per minute on top of the gateway's (`BW_SUPPLIER_SEARCH_PER_MINUTE`,
`BW_SUPPLIER_SEARCH_BURST`): 429 with Retry-After beyond it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import StringConstraints

from services.reports.api.deps import SearchingBuyerOrAdvisor
from services.reports.clients import EligibilityDep
from services.reports.domain.access import Caller
from services.reports.schemas import SupplierPage, SupplierPublic
from services.reports.store import access as store_access
from shared.db import SessionDep
from shared.errors import TooManyRequests, Unprocessable
from shared.pagination import MAX_CURSOR_LENGTH, PageDep, SortKey
from shared.ratelimit import RateLimiter, make_limiter, retry_after
from shared.scope import ensure_in_scope, scope_countries
from shared.types import text

__all__ = ["close_limiter", "install_limiter", "router"]

router = APIRouter(tags=["suppliers"])

# This list's cursor wraps the registry's own (signed by eligibility for its internal
# list): a forged or foreign cursor is refused here first, like on every list.
REGISTRY_CURSOR = [SortKey(type=str, max_length=MAX_CURSOR_LENGTH)]

SupplierName = Annotated[str, text(max_length=300)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]


async def install_limiter(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.supplier_search_limiter = make_limiter(
        redis_url=settings.redis_url,
        per_minute=settings.supplier_search_per_minute,
        burst=settings.supplier_search_burst,
        prefix="reports-suppliers:",
    )


async def close_limiter(app: FastAPI) -> None:
    limiter: RateLimiter | None = getattr(app.state, "supplier_search_limiter", None)
    if limiter is not None:
        await limiter.close()


async def _within_budget(request: Request, caller: SearchingBuyerOrAdvisor) -> Caller:
    limiter: RateLimiter = request.app.state.supplier_search_limiter
    decision = await limiter.acquire(f"org:{caller.org}")
    if not decision.allowed:
        settings = request.app.state.settings
        raise TooManyRequests(
            f"Too many supplier searches for {caller.org!r}: the limit is "
            f"{settings.supplier_search_per_minute} per minute (bursts of "
            f"{settings.supplier_search_burst}); retry after the delay given.",
            headers={"Retry-After": retry_after(decision.wait_s)},
        )
    return caller


Searcher = Annotated[Caller, Depends(_within_budget)]


def _countries(caller: Caller, country: str | None) -> list[str] | None:
    """The countries searched: the one asked for (an advisor: within its programmes), else
    an advisor's programmes; None: every country."""
    if country is not None:
        ensure_in_scope(caller.principal, country)
        return [country]
    covered = scope_countries(caller.principal)
    return None if covered is None else list(covered)


@router.get("/suppliers")
async def search_suppliers(
    caller: Searcher,
    session: SessionDep,
    eligibility: EligibilityDep,
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
    country: Annotated[
        Country | None, Query(description="Only this country (ISO 3166-1 alpha-2).")
    ] = None,
) -> SupplierPage:
    """Find suppliers in the registry by name, OS ID or country: their public fields, whether
    they are enrolled and your organisation's third-party access state for each. Name hits
    come best first (`match_score`), the others by id."""
    if q is None and os_id is None and country is None:
        raise Unprocessable("Search by `q` (a name), `os_id` or `country`.")
    if q is not None and os_id is not None:
        raise Unprocessable("Search by `q` or by `os_id`, not both: an OS ID names one supplier.")
    countries = _countries(caller, None if country is None else country.upper())
    if countries == []:  # an advisor of no programme: nothing to search
        return SupplierPage(items=[])
    after = page.start(REGISTRY_CURSOR)
    found = await eligibility.suppliers(
        q=q,
        os_id=os_id,
        countries=countries,
        cursor=None if after is None else str(after[0]),
        limit=page.limit,
    )
    states: dict[str, str] = {}
    if caller.role != "advisor" and found.items:
        states = await store_access.tpa_states(
            session=session, org=caller.org, factory_ids=[item.id for item in found.items]
        )
    items = [
        SupplierPublic(
            **item.model_dump(),
            tpa_status=states.get(item.id),
            has_tpa=states.get(item.id) == "approved",
        )
        for item in found.items
    ]
    cursor = found.next_cursor
    next_cursor = None if cursor is None else page.cursor_for([cursor], REGISTRY_CURSOR)
    return SupplierPage(items=items, next_cursor=next_cursor)
