"""Scoping rows of factories: match each to the registry, decide, summarise. Pure (no I/O):
`jobs.pipeline` feeds it the registry indexes and the matched factories' facts.

A matched row's missing facts are completed from the registry entry (the facts the caller
sent always win), and the result names the fields taken from the registry. A row that
matches an enrolled factory is `enrolled`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

from services.eligibility.domain import (
    Decision,
    Engine,
    Facts,
    RecordedNomination,
    mark_enrolled,
)
from services.eligibility.domain.matching import CountryIndex, Match

__all__ = [
    "REGISTRY_FACTS",
    "FieldError",
    "InvalidRow",
    "Query",
    "RowError",
    "RowResult",
    "ScopeSummary",
    "ScopedDecision",
    "decide_rows",
    "match_rows",
    "summarise",
]

# The facts a registry entry holds; a matched row lacking one takes the registry's value.
REGISTRY_FACTS = (
    "products",
    "region",
    "in_export_processing_zone",
    "worker_count",
    "female_worker_share",
    "operating_since",
    "has_export_license",
    "export_markets",
    "is_subcontractor",
    "in_industrial_park",
)


class Query(Facts, Protocol):
    """A factory to scope: its facts plus what identifies it (FactoryQuery in the API)."""

    @property
    def client_ref(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def os_id(self) -> str | None: ...
    @property
    def factory_id(self) -> str | None: ...


@dataclass(slots=True)
class ScopedDecision(Decision):
    """A decision for one input row, with the caller's reference and the registry match."""

    row: int | None = None
    client_ref: str | None = None
    match: Match | None = None
    facts_from_registry: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FieldError:
    field: str
    message: str


@dataclass(slots=True)
class RowError:
    message: str
    errors: list[FieldError] = field(default_factory=list)


@dataclass(slots=True)
class InvalidRow:
    """A row that could not be read (bad value, unknown country, broken CSV line)."""

    row: int
    error: RowError
    client_ref: str | None = None
    country: str | None = None
    status: Literal["invalid"] = "invalid"


RowResult = ScopedDecision | InvalidRow


@dataclass(slots=True)
class ScopeSummary:
    """Counts over the rows: by status, by country, and how the matching went."""

    total: int
    by_status: dict[str, int]
    by_country: dict[str, int]
    by_country_and_status: dict[str, dict[str, int]]
    matched: int
    ambiguous: int
    unmatched: int
    invalid: int


@dataclass(slots=True)
class _CompletedFacts:
    """A row's facts with the gaps filled from its registry entry."""

    country: str
    products: Sequence[str] | None
    region: str | None
    in_export_processing_zone: bool | None
    worker_count: int | None
    female_worker_share: float | None
    operating_since: date | None
    has_export_license: bool | None
    nominated_by_partner: bool | None
    export_markets: Sequence[str] | None
    is_subcontractor: bool | None
    in_industrial_park: bool | None
    wants_advisory: bool | None
    recorded_nomination: RecordedNomination | None = None


def _complete(
    row: Facts, registry: Any, nomination: RecordedNomination | None
) -> tuple[Facts, list[str]]:
    """The row's facts completed from its registry entry, and the recorded nomination when
    the caller did not send `nominated_by_partner` (a what-if always wins)."""
    filled: list[str] = []
    values: dict[str, Any] = {}
    for name in REGISTRY_FACTS:
        value = getattr(row, name)
        if value is None:
            value = getattr(registry, name)
            if value is not None:
                filled.append(name)
        values[name] = value
    if row.nominated_by_partner is not None:
        nomination = None
    if not filled and nomination is None:
        return row, filled
    completed = _CompletedFacts(
        country=row.country,
        nominated_by_partner=(
            row.nominated_by_partner if nomination is None else nomination.nomination_id is not None
        ),
        wants_advisory=row.wants_advisory,
        recorded_nomination=nomination,
        **values,
    )
    return completed, filled


def match_rows(rows: Sequence[Query], indexes: Mapping[str, CountryIndex]) -> list[Match | None]:
    """Each row against its own country's registry only (blocking by country)."""
    matches: list[Match | None] = []
    for query in rows:
        index = indexes.get(query.country)
        if index is None:
            has_identity = query.name or query.os_id or query.factory_id
            matches.append(Match("none") if has_identity else None)
            continue
        matches.append(
            index.match(
                name=query.name,
                address=query.address,
                os_id=query.os_id,
                factory_id=query.factory_id,
            )
        )
    return matches


def decide_rows(
    engine: Engine,
    rows: Sequence[Query],
    matches: Sequence[Match | None],
    registry_facts: Mapping[str, Any],
    *,
    as_of: date,
    positions: Sequence[int] | None = None,
    nominations: Mapping[str, RecordedNomination] | None = None,
) -> list[ScopedDecision]:
    """Decide every row; `registry_facts` maps matched factory ids to their registry rows,
    `nominations` to what their recorded nominations say (none given: none recorded)."""
    nominations = nominations or {}
    results = []
    for i, (query, match) in enumerate(zip(rows, matches, strict=True)):
        facts: Facts = query
        filled: list[str] = []
        matched_id = match.factory_id if match is not None and match.status == "matched" else None
        if matched_id is not None and matched_id in registry_facts:
            recorded = nominations.get(matched_id) or RecordedNomination(matched_id, None)
            facts, filled = _complete(query, registry_facts[matched_id], recorded)
        result = engine.decide_as(ScopedDecision, facts, as_of=as_of)
        if matched_id is not None and match is not None and match.enrolment_status == "enrolled":
            result = mark_enrolled(result, factory_id=matched_id)
        result.row = positions[i] if positions is not None else i + 1
        result.client_ref = query.client_ref
        result.match = match
        result.facts_from_registry = filled
        results.append(result)
    return results


def summarise(results: Sequence[RowResult]) -> ScopeSummary:
    by_status: Counter[str] = Counter()
    by_country: Counter[str] = Counter()
    by_country_and_status: dict[str, Counter[str]] = {}
    match_counts: Counter[str] = Counter()
    for result in results:
        by_status[result.status] += 1
        if isinstance(result, InvalidRow):
            continue
        by_country[result.country] += 1
        by_country_and_status.setdefault(result.country, Counter())[result.status] += 1
        match_counts[result.match.status if result.match is not None else "none"] += 1
    return ScopeSummary(
        total=len(results),
        by_status=dict(sorted(by_status.items())),
        by_country=dict(sorted(by_country.items())),
        by_country_and_status={
            c: dict(sorted(s.items())) for c, s in sorted(by_country_and_status.items())
        },
        matched=match_counts["matched"],
        ambiguous=match_counts["ambiguous"],
        unmatched=match_counts["none"],
        invalid=by_status["invalid"],
    )
