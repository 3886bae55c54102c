"""Rule data of the cycles service (Table 2 timings, visit counts, training allowances),
loaded once from the JSON files beside this module: a new figure is a data change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "CountryRules",
    "CycleRules",
    "Timing",
    "UnknownProgramme",
    "VisitRules",
    "country_rules",
    "cycle_rules",
    "programme_countries",
]

HERE = Path(__file__).resolve().parent


class UnknownProgramme(LookupError):
    """The country has no Better Work programme in the rule data."""


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


@cache
def _training_versions() -> tuple[tuple[date, dict[str, int]], ...]:
    data = _load("training.json")
    low, high = data["range"]
    versions = []
    for version in data["versions"]:
        allowances = {c.upper(): int(v) for c, v in version["participant_days"].items()}
        for country, days in allowances.items():
            if not low <= days <= high:
                raise ValueError(f"training allowance of {country} ({days}) not in {low}-{high}")
        versions.append((date.fromisoformat(version["effective_from"]), allowances))
    return tuple(sorted(versions, key=lambda v: v[0]))


def programme_countries() -> frozenset[str]:
    return frozenset(c for _, allowances in _training_versions() for c in allowances)


def country_rules(country: str, *, on: date) -> CountryRules:
    """The rules in force on `on` (a cycle's start date) for `country`."""
    country = country.upper()
    in_force = [allowances for since, allowances in _training_versions() if since <= on]
    if not in_force or country not in in_force[-1]:
        raise UnknownProgramme(f"There is no Better Work programme for {country!r} on {on}.")
    return CountryRules(
        country=country, training_participant_days=in_force[-1][country], cycle=cycle_rules()
    )
