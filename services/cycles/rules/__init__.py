"""Rule data of the cycles service (Table 2 timings, visit counts, shadow limits, seminar
capacity), one file per version beside this module (`cycle_<version>.json`, the version a
date): a new figure is a data change. A country's training allowance is the programme's,
owned by eligibility.

Versions, because a cycle keeps the schedule it was opened with: a new cycle is scheduled
with the latest version and stores it (`cycle.schedule_rules`), and its plan is always
recomputed from that stored version, so a newer file never moves an existing cycle's
windows. Limits that are not part of one cycle's schedule (shadow visits per buyer and
year, seminar capacity) come from the latest version.
"""

from __future__ import annotations

import json
import re
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
    "current_version",
    "cycle_rules",
    "versions",
]

HERE = Path(__file__).resolve().parent
_FILE = re.compile(r"^cycle_(\d{4}-\d{2}-\d{2})\.json$")


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
    version: str
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


def _load(path: Path) -> CycleRules:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    match = _FILE.match(path.name)
    if match is None or data.get("version") != match.group(1):
        raise RuntimeError(f"{path.name}: a cycle rule file is named cycle_<its version>.json")
    timing = Timing(**data["timing"])
    if not (
        timing.assessment_earliest_days <= timing.assessment_target_days
        and timing.assessment_last_month <= timing.report_release_last_month
    ):
        raise RuntimeError(
            f"{path.name}: the assessment window must hold its target and end "
            "no later than the report's release"
        )
    return CycleRules(
        version=data["version"],
        timing=timing,
        visits=VisitRules(**data["visits"]),
        shadow_limits=dict(data["shadow_visits_per_buyer_country_year"]),
        seminar_capacity_max=int(data["seminar_capacity_max"]),
    )


@cache
def _all() -> dict[str, CycleRules]:
    found = {rules.version: rules for rules in map(_load, sorted(HERE.glob("cycle_*.json")))}
    if not found:
        raise RuntimeError(f"no cycle rule files in {HERE}")
    return found


def versions() -> list[str]:
    """Every version, oldest first."""
    return sorted(_all())


def current_version() -> str:
    """The version new cycles are scheduled with: the latest."""
    return versions()[-1]


def cycle_rules(version: str | None = None) -> CycleRules:
    """The rules of `version` (a cycle's `schedule_rules`); None: the current ones."""
    rules = _all()
    found = rules.get(version or current_version())
    if found is None:
        raise LookupError(
            f"cycle rules {version!r} are not in {HERE}; versions: {', '.join(sorted(rules))}"
        )
    return found


def country_rules(
    country: str, *, training_participant_days: int, version: str | None = None
) -> CountryRules:
    """Table 2 of `version` (None: current) for a cycle in `country`, with the programme's
    training allowance (rule data of the eligibility service, read when the cycle is
    opened)."""
    return CountryRules(
        country=country.upper(),
        training_participant_days=training_participant_days,
        cycle=cycle_rules(version),
    )
