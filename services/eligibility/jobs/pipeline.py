"""From rows to results: the registry indexes of the rows' countries, matching, the
matched factories' facts, decisions and a summary. The CPU work runs in a worker thread so
the event loop keeps serving other requests while a large list is scoped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.eligibility.domain import Engine, RecordedNomination
from services.eligibility.domain.matching import Match
from services.eligibility.domain.nominations import counted_nomination
from services.eligibility.domain.scoping import (
    InvalidRow,
    Query,
    RowResult,
    ScopedDecision,
    ScopeSummary,
    decide_rows,
    match_rows,
    summarise,
)
from services.eligibility.store import registry_facts
from services.eligibility.store.nominations import active_nominations
from services.eligibility.store.registry import RegistryCache
from shared.auth import Principal

__all__ = ["ScopeOutcome", "scope"]


@dataclass(slots=True)
class ScopeOutcome:
    results: list[RowResult]
    summary: ScopeSummary
    matched_factory_ids: list[str]

    @property
    def decisions(self) -> list[ScopedDecision]:
        return [r for r in self.results if isinstance(r, ScopedDecision)]


async def scope(
    *,
    session: AsyncSession,
    engine: Engine,
    registry: RegistryCache,
    rows: Sequence[Query | InvalidRow],
    as_of: date,
    viewer: Principal | None,
) -> ScopeOutcome:
    """`viewer`: whom the decisions are for (a list's owner), which decides how a recorded
    nomination is named."""
    engine.require_rules_on(as_of)
    positions = [i + 1 for i, row in enumerate(rows) if not isinstance(row, InvalidRow)]
    queries = [row for row in rows if not isinstance(row, InvalidRow)]
    identified = {q.country for q in queries if q.name or q.os_id or q.factory_id}
    indexes = await registry.indexes(session=session, countries=identified)
    matches = await asyncio.to_thread(match_rows, queries, indexes)
    matched_ids = [m.factory_id for m in matches if m is not None and m.factory_id is not None]
    facts = await registry_facts(session=session, ids=matched_ids) if matched_ids else {}
    nominations = await _recorded_nominations(
        session=session, queries=queries, matches=matches, viewer=viewer
    )
    decided = await asyncio.to_thread(
        decide_rows,
        engine,
        queries,
        matches,
        facts,
        as_of=as_of,
        positions=positions,
        nominations=nominations,
    )
    results: list[RowResult] = []
    next_decision = iter(decided)
    for row in rows:
        results.append(row if isinstance(row, InvalidRow) else next(next_decision))
    return ScopeOutcome(results, summarise(results), sorted(set(matched_ids)))


async def _recorded_nominations(
    *,
    session: AsyncSession,
    queries: Sequence[Query],
    matches: Sequence[Match | None],
    viewer: Principal | None,
) -> dict[str, RecordedNomination]:
    """What the records say for the matched factories of rows that did not send
    `nominated_by_partner` (the others are the caller's what-if)."""
    wanted = {
        m.factory_id
        for q, m in zip(queries, matches, strict=True)
        if m is not None
        and m.status == "matched"
        and m.factory_id is not None
        and q.nominated_by_partner is None
    }
    if not wanted:
        return {}
    active = await active_nominations(session=session, factory_ids=wanted)
    return {
        factory_id: counted_nomination(factory_id, active.get(factory_id, []), viewer=viewer)
        for factory_id in wanted
    }
