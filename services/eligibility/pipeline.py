"""From rows to results: the registry indexes of the rows' countries, matching, the
matched factories' facts, decisions and a summary. The CPU work runs in a worker thread so
the event loop keeps serving other requests while a large list is scoped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.eligibility.domain import Engine
from services.eligibility.registry import RegistryCache
from services.eligibility.scoping import (
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
) -> ScopeOutcome:
    engine.require_rules_on(as_of)
    positions = [i + 1 for i, row in enumerate(rows) if not isinstance(row, InvalidRow)]
    queries = [row for row in rows if not isinstance(row, InvalidRow)]
    identified = {q.country for q in queries if q.name or q.os_id or q.factory_id}
    indexes = await registry.indexes(session=session, countries=identified)
    matches = await asyncio.to_thread(match_rows, queries, indexes)
    matched_ids = [m.factory_id for m in matches if m is not None and m.factory_id is not None]
    facts = await registry_facts(session=session, ids=matched_ids) if matched_ids else {}
    decided = await asyncio.to_thread(
        decide_rows, engine, queries, matches, facts, as_of=as_of, positions=positions
    )
    results: list[RowResult] = []
    next_decision = iter(decided)
    for row in rows:
        results.append(row if isinstance(row, InvalidRow) else next(next_decision))
    return ScopeOutcome(results, summarise(results), sorted(set(matched_ids)))
