"""Rule data of the cycles service (Table 2 timings, visit counts, shadow limits, seminar
capacity), loaded once from `cycle.json` beside this module: a new figure is a data
change. A country's training allowance is the programme's, owned by eligibility."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "CountryRules",
    "CycleRules",
    "Timing",
    "VisitRules",
    "country_rules",
    "cycle_rules",
]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Timing:
    cycle_months: int
    initial_advisory_last_month: int
    assessment_target_days: int
    assessment_earliest_days: int
    assessment_last_month: int
    assessment_days: int
    assessors: int
    report_release_days_after_assessment: int
    report_release_last_month: int
    progress_report_1_month: int
    post_assessment_first_month: int
    post_assessment_last_month: int
    progress_report_2_month: int


@dataclass(frozen=True, slots=True)
class VisitRules:
    initial_first_cycle_min: int
    initial_first_cycle_max: int
    initial_later_cycles_min: int
    post_assessment_min: int
    advisory_per_year_min: int
    advisory_per_year_max: int


@dataclass(frozen=True, slots=True)
class CycleRules:
    timing: Timing
    visits: VisitRules
    shadow_limits: dict[str, int]
    seminar_capacity_max: int


@dataclass(frozen=True, slots=True)
class CountryRules:
    """What a cycle in one country is scheduled by: Table 2 plus the country's allowance."""

    country: str
    training_participant_days: int
    cycle: CycleRules


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return data


@cache
def cycle_rules() -> CycleRules:
    data = _load("cycle.json")
    return CycleRules(
        timing=Timing(**data["timing"]),
        visits=VisitRules(**data["visits"]),
        shadow_limits=dict(data["shadow_visits_per_buyer_country_year"]),
        seminar_capacity_max=int(data["seminar_capacity_max"]),
    )


def country_rules(country: str, *, training_participant_days: int) -> CountryRules:
    """Table 2 for a cycle in `country`, with the programme's training allowance (rule
    data of the eligibility service, read when the cycle is opened)."""
    return CountryRules(
        country=country.upper(),
        training_participant_days=training_participant_days,
        cycle=cycle_rules(),
    )
