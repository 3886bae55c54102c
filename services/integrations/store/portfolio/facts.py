"""The portfolio's facts as plain objects: what the projection reads and changes, and the
access rules make rows of. Their fields are the columns of `portfolio_factory` and
`portfolio_relation` (`tests/integrations/test_portfolio_rebuild.py` checks they match).

Plain slotted dataclasses rather than the SQLModel table classes: the projection makes and
changes hundreds of thousands of them in a rebuild, where a table model instance (its
validation and ORM instrumentation) cost about a millisecond each, and it writes them back
with one statement per batch instead of the ORM's per-object flush.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

__all__ = ["FactoryFacts", "Facts", "RelationFacts", "ViewerRow", "columns"]


@dataclass(slots=True)
class FactoryFacts:
    """What the events said about one factory (see models.portfolio.PortfolioFactory)."""

    factory_id: str
    as_of: datetime
    advisors_as_of: datetime
    name: str | None = None
    country: str | None = None
    os_id: str | None = None
    enrolment_status: str | None = None
    high_performing: bool | None = None
    classification_orgs: list[str] = field(default_factory=list)
    cycle: int | None = None
    cycle_id: str | None = None
    milestones: dict[str, Any] = field(default_factory=dict)
    released: dict[str, list[str]] = field(default_factory=dict)
    assessment_cycle: int | None = None
    assessment_released_at: datetime | None = None
    findings_all: dict[str, int] | None = None
    findings_public: dict[str, int] | None = None
    plan_items: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class RelationFacts:
    """One organisation's ties to one factory (see models.portfolio.PortfolioRelation)."""

    org: str
    factory_id: str
    as_of: datetime
    tpa_state: str | None = None
    unlocked: list[int] = field(default_factory=list)
    shared: list[int] = field(default_factory=list)
    nominated: bool = False
    lists: list[str] = field(default_factory=list)
    eligibility_status: str | None = None


@dataclass(slots=True)
class ViewerRow:
    """One factory as one viewer reads it (see models.portfolio.PortfolioRow)."""

    viewer: str
    factory_id: str
    name_key: str
    as_of: datetime
    name: str | None = None
    country: str = ""
    os_id: str | None = None
    enrolment_status: str | None = None
    eligibility_status: str | None = None
    relations: list[str] = field(default_factory=list)
    listed: bool = False
    tpa_state: str | None = None
    cycle: int | None = None
    milestones: dict[str, str] | None = None
    overdue: bool = False
    unlocked_cycles: list[int] = field(default_factory=list)
    latest_assessment_at: datetime | None = None
    findings_basis: str | None = None
    findings: dict[str, int] | None = None
    high_performing: bool | None = None
    plan_due: list[str] | None = None


Facts = FactoryFacts | RelationFacts | ViewerRow


def columns(kind: type[Facts]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))
