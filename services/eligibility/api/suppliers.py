"""The registry side of the supplier quick-find (the guide's Appendix 2), for reports, which
serves the public `GET /v1/reports/suppliers` and adds each buyer's own TPA state: the
matching registry factories' public fields only — name, country, region, OS ID, whether
enrolled — never the address or other contact data.

Names are found with the matcher (`matching.CountryIndex.search`: the same keys and
scores as list matching, plus partial names); OS IDs exactly; a country alone pages its
registry by id. Reports decides who may search which countries (the advisor scope) and
each organisation's search budget; this route trusts the `countries` it is given.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query
from sqlmodel import col

from services.eligibility.api.deps import RegistryDep
from services.eligibility.models import Factory
from services.eligibility.schemas import InternalSupplier, InternalSuppliers
from services.eligibility.schemas.fields import CountryCode
from services.eligibility.store import factories_by_id, registry_countries
from shared.auth import ServiceCaller
from shared.db import SessionDep
from shared.errors import Unprocessable
from shared.pagination import PageDep, SortKey, page_list, paginate, sort_key
from shared.types import text

__all__ = ["router"]

router = APIRouter(prefix="/internal", tags=["internal"])

MAX_NAME_HITS = 200  # a quick-find, not an export: the best 200 names at most
MAX_COUNTRIES = 300  # more than there are ISO codes
# Name hits page by (rank, id): rank = 1000 - score x 10, so the best come first.
RANKED_KEY = [SortKey(type=int, maximum=1000), SortKey(type=str)]
BY_ID_KEY = [sort_key(Factory.id, str)]

SupplierName = Annotated[str, text(max_length=300)]


@router.get("/suppliers")
async def search_suppliers_internal(
    caller: ServiceCaller,
    session: SessionDep,
    registry: RegistryDep,
    page: PageDep,
    q: Annotated[SupplierName | None, Query(min_length=2, description="A name (fuzzy).")] = None,
    os_id: Annotated[
        SupplierName | None,
        Query(min_length=1, max_length=64, description="An Open Supply Hub id (exact)."),
    ] = None,
    countries: Annotated[
        list[CountryCode] | None,
        Query(max_length=MAX_COUNTRIES, description="Only these countries (absent: every one)."),
    ] = None,
) -> InternalSuppliers:
    """Registry factories by name, OS ID or countries, public fields only (reports' supplier
    quick-find). Name hits come best first (`match_score`), the others by id."""
    if q is None and os_id is None and countries is None:
        raise Unprocessable("Search by `q` (a name), `os_id` or `countries`.")
    if q is not None and os_id is not None:
        raise Unprocessable("Search by `q` or by `os_id`, not both: an OS ID names one supplier.")
    scores: dict[str, float] = {}
    if q is not None:
        wanted = countries if countries is not None else await registry_countries(session=session)
        indexes = await registry.indexes(session=session, countries=wanted)
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
    items = [
        InternalSupplier(
            id=row.id,
            name=row.name,
            country=row.country,
            region=row.region,
            os_id=row.os_id,
            enrolled=row.enrolment_status == "enrolled",
            match_score=scores.get(row.id),
        )
        for row in rows
    ]
    return InternalSuppliers(items=items, next_cursor=cursor)
