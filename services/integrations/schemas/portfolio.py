"""The portfolio's replies, typed for OpenAPI (and so for generated clients)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.events.eligibility import DecisionStatus

__all__ = [
    "BenchmarkCell",
    "CountryCount",
    "Coverage",
    "PortfolioPage",
    "PortfolioRowOut",
    "PortfolioSummary",
]

Relation = Literal["tpa_requested", "tpa_approved", "unlocked", "shared", "nominated", "listed"]
MilestoneState = Literal["due", "overdue", "done"]


class PortfolioRowOut(BaseModel):
    factory_id: str
    name: str | None = Field(description="None until the registry's event is taken in.")
    country: str | None
    os_id: str | None = Field(description="Open Supply Hub ID, when the registry has one.")
    enrolment_status: Literal["registered", "enrolled", "withdrawn"] | None
    eligibility_status: DecisionStatus | None = Field(
        description="Your latest eligibility decision for the factory (a check, a bulk check "
        "or one of your factory lists); None: you have none (advisors: None)."
    )
    relations: list[Relation] = Field(
        description="Why the factory is in your portfolio (listed: one of your factory lists "
        "matched it; advisors: empty)."
    )
    tpa_state: Literal["pending", "approved", "declined", "revoked"] | None = Field(
        description="Your third-party access request's state (advisors: None)."
    )
    current_cycle: int | None = Field(
        description="The factory's current service cycle, while your TPA is approved."
    )
    milestones: dict[str, MilestoneState] | None = Field(
        description="Milestones of the current cycle that are due, overdue or done, while "
        "your TPA is approved; never the unannounced assessment, and never a date."
    )
    overdue: bool = Field(description="A milestone you may see is overdue.")
    unlocked_cycles: list[int] = Field(description="The cycles you unlocked.")
    latest_assessment_released_at: datetime | None
    findings_basis: Literal["report", "public"] | None = Field(
        description="report: you may read the latest assessment, every non-compliance is "
        "counted; public: only the publicly reported ones; None: no assessment released."
    )
    noncompliant_by_cluster: dict[str, int] | None = Field(
        description="Non-compliant findings of the latest released assessment, per cluster."
    )
    high_performing: bool | None = Field(
        description="The factory's classification, where it may be shown to you."
    )
    improvement_items_overdue: int | None = Field(
        description="Open improvement plan items past their due date, in the cycles whose "
        "reports you may read (as noncompliant_by_cluster: unlocked, or shared while your "
        "TPA is approved); None when you may read none. Counted against today's date."
    )
    as_of: datetime = Field(description="The last event this row reflects.")


class PortfolioPage(BaseModel):
    items: list[PortfolioRowOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class CountryCount(BaseModel):
    country: str | None
    factories: int
    by_status: dict[str, int] = Field(description="By enrolment status.")


class Coverage(BaseModel):
    factories: int = Field(
        description="Your listed factories: those your factory lists matched in the registry "
        "(advisors: every factory of their programmes)."
    )
    in_better_work: int = Field(description="Of those, enrolled in a Better Work programme.")
    share: float | None = Field(description="in_better_work / factories (None if none).")


class BenchmarkCell(BaseModel):
    country: str
    cluster: str
    portfolio_factories: int = Field(
        description="Your factories in the country whose latest assessment you may read."
    )
    portfolio_rate: float | None = Field(
        description="Share of those with at least one non-compliance in the cluster."
    )
    benchmark_factories: int | None = Field(
        description="Factories of the programme with a released assessment (None: withheld)."
    )
    benchmark_rate: float | None = Field(
        description="The same share over all of them; withheld (None) under 5 factories."
    )
    withheld: bool


class PortfolioSummary(BaseModel):
    as_of: datetime | None = Field(description="The last event any counted row reflects.")
    factories: int
    by_status: dict[str, int]
    by_country: list[CountryCount]
    coverage: Coverage
    benchmarks: list[BenchmarkCell] | None = Field(
        description="Partners and advisors: non-compliance per cluster beside the country "
        "benchmark (None when not asked for, or not a partner benefit of yours)."
    )
    basis: dict[str, str] = Field(description="Which factories each figure counts.")
