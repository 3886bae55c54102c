"""Reading the portfolio: whose rows a caller reads, the filters, a page, the CSV stream
and the summary's figures. Every access decision was made when the rows were written
(`access.py`); here the caller only picks its viewer key (and advisors their countries)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.integrations.models.portfolio import ADVISORS, PortfolioFactory, PortfolioRow
from services.integrations.schemas.portfolio import (
    BenchmarkCell,
    CountryCount,
    Coverage,
    PortfolioRowOut,
    PortfolioSummary,
)
from shared import clock
from shared.auth import Principal
from shared.pagination import PageParams, SortKey, paginate, sort_key
from shared.scope import country_clause, scope_countries

__all__ = [
    "BENCHMARK_MINIMUM",
    "CSV_COLUMNS",
    "Filters",
    "Sort",
    "csv_stream",
    "page_of",
    "summary_of",
]

Sort = Literal["name", "-name", "country", "-country"]
TpaFilter = Literal["pending", "approved", "declined", "revoked", "none"]
BENCHMARK_MINIMUM = 5  # a benchmark over fewer factories could point at one of them
_STREAM_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Filters:
    country: str | None = None
    status: str | None = None
    tpa_state: TpaFilter | None = None
    overdue: bool | None = None
    high_performing: bool | None = None
    updated_since: datetime | None = None


def _viewer(principal: Principal) -> str:
    return ADVISORS if principal.role == "advisor" else principal.org


def _keys(sort: Sort) -> tuple[list[SortKey], bool]:
    name = [sort_key(PortfolioRow.name_key, str), sort_key(PortfolioRow.factory_id, str)]
    if sort.lstrip("-") == "country":
        return [sort_key(PortfolioRow.country, str), *name], sort.startswith("-")
    return name, sort.startswith("-")


def _select(principal: Principal, filters: Filters) -> sa.Select[Any]:
    statement = sa.select(PortfolioRow).where(
        col(PortfolioRow.viewer) == _viewer(principal),
        country_clause(col(PortfolioRow.country), scope_countries(principal)),
    )
    if filters.country is not None:
        statement = statement.where(col(PortfolioRow.country) == filters.country)
    if filters.status is not None:
        statement = statement.where(col(PortfolioRow.enrolment_status) == filters.status)
    if filters.tpa_state == "none":
        statement = statement.where(col(PortfolioRow.tpa_state).is_(None))
    elif filters.tpa_state is not None:
        statement = statement.where(col(PortfolioRow.tpa_state) == filters.tpa_state)
    if filters.overdue is not None:
        statement = statement.where(col(PortfolioRow.overdue).is_(filters.overdue))
    if filters.high_performing is not None:
        statement = statement.where(col(PortfolioRow.high_performing).is_(filters.high_performing))
    if filters.updated_since is not None:
        statement = statement.where(col(PortfolioRow.as_of) >= filters.updated_since)
    return statement


def overdue_items(due_dates: Sequence[str] | None, today: date) -> int | None:
    """How many of the due dates have passed (None: none readable). Decided when served:
    an item falls overdue when a day passes, with no event."""
    if due_dates is None:
        return None
    return sum(1 for due in due_dates if date.fromisoformat(due) < today)


def row_out(row: PortfolioRow, today: date) -> PortfolioRowOut:
    return PortfolioRowOut(
        factory_id=row.factory_id,
        name=row.name,
        country=row.country or None,
        os_id=row.os_id,
        enrolment_status=row.enrolment_status,
        eligibility_status=row.eligibility_status,
        relations=row.relations,
        tpa_state=row.tpa_state,
        current_cycle=row.cycle,
        milestones=row.milestones,
        overdue=row.overdue,
        unlocked_cycles=row.unlocked_cycles,
        latest_assessment_released_at=row.latest_assessment_at,
        findings_basis=row.findings_basis,
        noncompliant_by_cluster=row.findings,
        high_performing=row.high_performing,
        improvement_items_overdue=overdue_items(row.plan_due, today),
        as_of=row.as_of,
    )


async def page_of(
    *, session: AsyncSession, principal: Principal, filters: Filters, sort: Sort, page: PageParams
) -> tuple[list[PortfolioRowOut], str | None]:
    key, descending = _keys(sort)
    rows, cursor = await paginate(
        session, _select(principal, filters), page, key=key, descending=descending
    )
    today = clock.today()
    return [row_out(row, today) for row in rows], cursor


# --- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "factory_id",
    "name",
    "country",
    "os_id",
    "enrolment_status",
    "eligibility_status",
    "relations",
    "tpa_state",
    "current_cycle",
    "milestones",
    "overdue",
    "unlocked_cycles",
    "latest_assessment_released_at",
    "findings_basis",
    "noncompliant_by_cluster",
    "high_performing",
    "improvement_items_overdue",
    "as_of",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = str(value)
    # A cell a spreadsheet would run as a formula is quoted as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _lines(rows: Sequence[PortfolioRowOut], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow([_cell(values[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


async def csv_stream(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    filters: Filters,
    sort: Sort,
    limit: int | None,
) -> AsyncIterator[str]:
    """The rows as CSV, in keyset chunks (one short transaction each, none held while the
    client reads); `limit`: at most that many rows."""
    key, descending = _keys(sort)
    columns = [part.column for part in key if part.column is not None]
    after: tuple[Any, ...] | None = None
    left = limit
    yield _lines([], header=True)
    while left is None or left > 0:
        size = _STREAM_CHUNK if left is None else min(_STREAM_CHUNK, left)
        statement = _select(principal, filters)
        if after is not None:
            position, previous = sa.tuple_(*columns), sa.tuple_(*after)
            statement = statement.where(position < previous if descending else position > previous)
        order = [c.desc() for c in columns] if descending else columns
        async with sessionmaker() as session:
            rows = list((await session.scalars(statement.order_by(*order).limit(size))).all())
        if not rows:
            return
        today = clock.today()
        yield _lines([row_out(row, today) for row in rows], header=False)
        after = tuple(getattr(rows[-1], c.key) for c in columns)
        if left is not None:
            left -= len(rows)
        if len(rows) < size:
            return


# --- summary -----------------------------------------------------------------------------


def _rate(hit: int, of: int) -> float | None:
    return round(hit / of, 4) if of else None


def _noncompliance(
    findings: Sequence[tuple[str, dict[str, int] | None]],
) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """(factories per country, factories with a non-compliance per country and cluster)."""
    counted: Counter[str] = Counter()
    hits: dict[str, Counter[str]] = defaultdict(Counter)
    for country, by_cluster in findings:
        counted[country] += 1
        for cluster, count in (by_cluster or {}).items():
            if count > 0:
                hits[country][cluster] += 1
    return counted, hits


async def _benchmarks(*, session: AsyncSession, statement: sa.Select[Any]) -> list[BenchmarkCell]:
    mine = [
        (str(c), f)
        for c, f in await session.execute(
            statement.with_only_columns(
                col(PortfolioRow.country), col(PortfolioRow.findings)
            ).where(col(PortfolioRow.findings_basis) == "report", col(PortfolioRow.country) != "")
        )
    ]
    countries = sorted({country for country, _ in mine})
    if not countries:
        return []
    everyone = [
        (str(c), f)
        for c, f in await session.execute(
            sa.select(col(PortfolioFactory.country), col(PortfolioFactory.findings_all)).where(
                col(PortfolioFactory.country).in_(countries),
                col(PortfolioFactory.assessment_cycle).is_not(None),
            )
        )
    ]
    own_counted, own_hits = _noncompliance(mine)
    all_counted, all_hits = _noncompliance(everyone)
    cells: list[BenchmarkCell] = []
    for country in countries:
        clusters = sorted(set(own_hits[country]) | set(all_hits[country]))
        withheld = all_counted[country] < BENCHMARK_MINIMUM
        for cluster in clusters:
            cells.append(
                BenchmarkCell(
                    country=country,
                    cluster=cluster,
                    portfolio_factories=own_counted[country],
                    portfolio_rate=_rate(own_hits[country][cluster], own_counted[country]),
                    benchmark_factories=None if withheld else all_counted[country],
                    benchmark_rate=None
                    if withheld
                    else _rate(all_hits[country][cluster], all_counted[country]),
                    withheld=withheld,
                )
            )
    return cells


BASIS = {
    "factories": "Every factory in your portfolio (advisors: of your programmes); the same "
    "rows as GET /portfolio/factories.",
    "by_country": "Those factories by country and enrolment status.",
    "coverage": "Of those, the ones your factory lists matched in the registry (advisors: "
    "all of them), and of these the ones enrolled in a Better Work programme.",
    "benchmarks": "portfolio_*: your factories in the country whose latest assessment you "
    "may read (findings_basis=report); benchmark_*: every factory of that country's "
    "programme with a released assessment, withheld under "
    f"{BENCHMARK_MINIMUM}. A rate is the share with a non-compliance in the cluster.",
}


async def summary_of(
    *, session: AsyncSession, principal: Principal, filters: Filters, benchmarks: bool
) -> PortfolioSummary:
    statement = _select(principal, filters)
    advisor = principal.role == "advisor"
    listed = sa.func.sum(sa.case((col(PortfolioRow.listed), 1), else_=0))
    grouped = await session.execute(
        statement.with_only_columns(
            col(PortfolioRow.country),
            col(PortfolioRow.enrolment_status),
            sa.func.count(),
            sa.func.max(col(PortfolioRow.as_of)),
            listed,
        ).group_by(col(PortfolioRow.country), col(PortfolioRow.enrolment_status))
    )
    by_country: dict[str, Counter[str]] = defaultdict(Counter)
    by_status: Counter[str] = Counter()
    covered: Counter[str] = Counter()  # coverage's factories by enrolment status
    as_of: datetime | None = None
    for country, status, count, latest, listed_count in grouped:
        by_country[country][status or "unknown"] += count
        by_status[status or "unknown"] += count
        covered[status or "unknown"] += count if advisor else int(listed_count or 0)
        as_of = latest if as_of is None else max(as_of, latest)
    total = sum(by_status.values())
    basis, enrolled = sum(covered.values()), covered.get("enrolled", 0)
    return PortfolioSummary(
        as_of=as_of,
        factories=total,
        by_status=dict(sorted(by_status.items())),
        by_country=[
            CountryCount(
                country=country or None,
                factories=sum(counts.values()),
                by_status=dict(sorted(counts.items())),
            )
            for country, counts in sorted(by_country.items())
        ],
        coverage=Coverage(factories=basis, in_better_work=enrolled, share=_rate(enrolled, basis)),
        benchmarks=await _benchmarks(session=session, statement=statement) if benchmarks else None,
        basis=BASIS,
    )
