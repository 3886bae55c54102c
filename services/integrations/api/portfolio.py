"""The brand portfolio's routes: the factory rows (JSON pages or CSV) and the summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from services.integrations.schemas.portfolio import PortfolioPage, PortfolioSummary
from services.integrations.store.portfolio import query
from services.integrations.store.portfolio.query import Filters, Sort, TpaFilter
from shared.app import problem_responses
from shared.auth import Principal, require
from shared.db import SessionDep
from shared.errors import Forbidden
from shared.pagination import PageParams, UpdatedSince, page_params

__all__ = ["router"]

router = APIRouter(prefix="/portfolio", tags=["portfolio"])

Viewer = Annotated[Principal, require("partner", "participant", "advisor")]
Page = Annotated[PageParams, Depends(page_params(default=100, maximum=1000, noun="Factories"))]
CSV_MAXIMUM = 100_000
BENCHMARK_BENEFIT = (
    "Benchmarking against the country is a partner benefit (the Global Brand Dashboard's "
    "benchmarking capabilities, in the programme guide's partner benefits); participants "
    "get their portfolio's counts. Ask without benchmarks=true, or become a partner."
)


def _filters(
    updated_since: UpdatedSince,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 country code."),
    ] = None,
    status: Annotated[
        str | None,
        Query(
            pattern=r"^(registered|enrolled|withdrawn)$",
            description="Enrolment status: registered, enrolled or withdrawn.",
        ),
    ] = None,
    tpa_state: Annotated[
        TpaFilter | None, Query(description="Your TPA's state; none: no request.")
    ] = None,
    overdue: Annotated[
        bool | None, Query(description="Only rows with (true) or without an overdue milestone.")
    ] = None,
    high_performing: Annotated[
        bool | None, Query(description="Only rows shown as high-performing (or not).")
    ] = None,
) -> Filters:
    return Filters(
        country=country.upper() if country else None,
        status=status,
        tpa_state=tpa_state,
        overdue=overdue,
        high_performing=high_performing,
        updated_since=updated_since,
    )


FiltersDep = Annotated[Filters, Depends(_filters)]
SortParam = Annotated[
    Sort, Query(description="name (default), -name, country or -country; the id breaks ties.")
]
CSV_REPLY: dict[str, Any] = {
    "description": "One line per factory, the columns of the JSON rows (a header first).",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


def _csv(
    request: Request, caller: Principal, filters: Filters, sort: Sort, limit: int | None
) -> StreamingResponse:
    return StreamingResponse(
        query.csv_stream(request.app.state.sessionmaker, caller, filters, sort, limit),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="portfolio.csv"'},
    )


def _wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "text/csv" in accept and "application/json" not in accept


@router.get(
    "/factories",
    response_model=PortfolioPage,
    responses={200: CSV_REPLY, **problem_responses(400)},
)
async def list_portfolio_factories(
    request: Request,
    caller: Viewer,
    session: SessionDep,
    filters: FiltersDep,
    page: Page,
    sort: SortParam = "name",
) -> Any:
    """Every factory your organisation has a relation with (advisors: every factory of
    their programmes), one row each, with the columns you may read.

    A row is there while the relation is: a TPA requested or approved, a cycle unlocked by
    you or shared with you, a nomination. Page with `cursor`; send `Accept: text/csv` for
    every matching row as CSV (as `/portfolio/factories/export.csv`).
    """
    if _wants_csv(request):
        return _csv(request, caller, filters, sort, None)
    items, cursor = await query.page_of(
        session=session, principal=caller, filters=filters, sort=sort, page=page
    )
    return PortfolioPage(items=items, next_cursor=cursor)


@router.get(
    "/factories/export.csv",
    response_class=StreamingResponse,
    responses={200: CSV_REPLY},
)
async def export_portfolio_factories(
    request: Request,
    caller: Viewer,
    filters: FiltersDep,
    sort: SortParam = "name",
    limit: Annotated[
        int | None,
        Query(ge=1, le=CSV_MAXIMUM, description=f"At most this many rows (1..{CSV_MAXIMUM:,})."),
    ] = None,
) -> StreamingResponse:
    """The portfolio's rows as CSV, for spreadsheets and sustainability reporting: the
    same rows and filters as `/portfolio/factories`, streamed whole."""
    return _csv(request, caller, filters, sort, limit)


@router.get(
    "/summary",
    response_model=PortfolioSummary,
    responses=problem_responses(
        403, descriptions={403: "Benchmarks asked for by a participant, or a factory's token."}
    ),
)
async def portfolio_summary(
    caller: Viewer,
    session: SessionDep,
    filters: FiltersDep,
    benchmarks: Annotated[
        bool | None,
        Query(
            description="Non-compliance per cluster beside the country benchmark (a partner "
            "benefit; partners and advisors get it unless false)."
        ),
    ] = None,
) -> PortfolioSummary:
    """Your portfolio at a glance: counts by country and status, coverage, and (partners,
    advisors) non-compliance per cluster beside the country's benchmark."""
    if caller.role == "participant" and benchmarks:
        raise Forbidden(BENCHMARK_BENEFIT, benefit="global_brand_dashboard_benchmarking")
    wanted = caller.role != "participant" and benchmarks is not False
    return await query.summary_of(
        session=session, principal=caller, filters=filters, benchmarks=wanted
    )
