"""Opening a factory's next service cycle: the checks, in order, then its schedule.

1. the factory is enrolled;
2. Better Work runs a programme in its country;
3. the new cycle starts after the previous one ends;
4. skipping the assessment is the high-performing option, every other year;
5. the schedule is Table 2 of the country's rules from the start date.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from services.cycles.domain import RuleBroken
from services.cycles.domain.differentiation import check_high_performing_option
from services.cycles.domain.schedule import CyclePlan, plan_cycle
from services.cycles.rules import country_rules
from shared.enrolment import ensure_enrolled

__all__ = ["PreviousCycle", "plan_next_cycle"]


class PreviousCycle(NamedTuple):
    number: int
    end_date: date
    assessment_skipped: bool


def plan_next_cycle(
    *,
    factory_id: str,
    country: str,
    enrolment_status: str,
    training_participant_days: int | None,
    previous: PreviousCycle | None,
    start: date,
    skip_assessment: bool,
    high_performing: bool,
) -> tuple[int, CyclePlan]:
    """The next cycle's number and plan, or the first rule it breaks."""
    ensure_enrolled(factory_id, enrolment_status, service="a service cycle starts")
    if training_participant_days is None:
        raise RuleBroken(
            "programme_country", f"Better Work has no programme in force in {country}."
        )
    if previous is not None and start <= previous.end_date:
        raise RuleBroken(
            "cycles_do_not_overlap",
            f"Cycle {previous.number} runs until {previous.end_date}; the next cycle starts "
            "after it.",
        )
    if skip_assessment:
        check_high_performing_option(
            high_performing=high_performing,
            previous_skipped=previous.assessment_skipped if previous else None,
        )
    number = previous.number + 1 if previous else 1
    rules = country_rules(country, training_participant_days=training_participant_days)
    return number, plan_cycle(
        start=start, number=number, rules=rules, high_performing=skip_assessment
    )
