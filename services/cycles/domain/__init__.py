"""The rules of a cycle, pure: visit scheduling and completion, shadow limits, milestone
status, the training allowance. No I/O and no clock (`today` is an argument).

A broken rule raises `RuleBroken` (422) whose `rule` names it, so a client can tell the
advisory-visit limit from the assessment window without parsing the sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal, NamedTuple

from services.cycles.domain.schedule import (
    ASSESSMENT,
    ASSESSMENT_REPORT_RELEASE,
    POST_ASSESSMENT_ADVISORY,
    PROGRESS_REPORT_1,
    PROGRESS_REPORT_2,
    CyclePlan,
    report_release_window,
)
from shared.errors import Conflict, Unprocessable

__all__ = [
    "ADVISORY_TYPES",
    "BUYER_TYPES",
    "SHADOW_TYPES",
    "VISIT_TYPES",
    "MilestoneState",
    "RuleBroken",
    "TrainingBalance",
    "VisitFact",
    "check_completion",
    "check_request_date",
    "check_shadow_limit",
    "check_training",
    "check_visit",
    "milestone_states",
    "shadow_key",
]

VisitType = Literal[
    "advisory", "assessment", "joint_advisory", "shadow_assessment", "shadow_advisory"
]
VisitStatus = Literal["scheduled", "requested", "completed", "cancelled"]
MilestoneStatus = Literal["upcoming", "due", "done", "overdue", "skipped"]

VISIT_TYPES: Final = (
    "advisory",
    "assessment",
    "joint_advisory",
    "shadow_assessment",
    "shadow_advisory",
)
# Visits that count as advisory visits (a joint visit is an advisory visit with a partner).
ADVISORY_TYPES: Final = frozenset({"advisory", "joint_advisory"})
SHADOW_TYPES: Final = frozenset({"shadow_assessment", "shadow_advisory"})
# What buyers may ask for, by role.
BUYER_TYPES: Final = {
    "partner": frozenset({"joint_advisory", "shadow_assessment", "shadow_advisory"}),
    "participant": frozenset({"shadow_assessment", "shadow_advisory"}),
}
# Document kinds in reports whose release completes a milestone.
RELEASE_MILESTONES: Final = {
    "assessment": ASSESSMENT_REPORT_RELEASE,
    "progress_report_1": PROGRESS_REPORT_1,
    "progress_report_2": PROGRESS_REPORT_2,
}


class RuleBroken(Unprocessable):
    """A scheduling or booking rule refused the request; `rule` names it."""

    def __init__(self, rule: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, rule=rule, **extra)
        self.rule = rule


@dataclass(frozen=True, slots=True)
class VisitFact:
    """What the rules need to know of a visit."""

    id: str
    type: str
    status: str
    date: date
    buyer_org: str | None = None

    @property
    def active(self) -> bool:
        return self.status != "cancelled"

    @property
    def completed(self) -> bool:
        return self.status == "completed"


class MilestoneState(NamedTuple):
    code: str
    due: date | None
    window_start: date | None
    window_end: date | None
    status: MilestoneStatus
    visits_min: int | None = None
    visits_max: int | None = None
    visits_completed: int | None = None
    # The assessment's date: planned (advisors) or held.
    date: date | None = None


# --- visits -------------------------------------------------------------------------------


def _in(day: date, start: date, end: date) -> bool:
    return start <= day <= end


def _advisory(visits: Iterable[VisitFact]) -> list[VisitFact]:
    return [v for v in visits if v.active and v.type in ADVISORY_TYPES]


def assessment_of(visits: Iterable[VisitFact]) -> VisitFact | None:
    """The cycle's assessment visit (at most one is active)."""
    return next((v for v in visits if v.active and v.type == ASSESSMENT), None)


def _check_in_cycle(plan: CyclePlan, day: date, last_day: date) -> None:
    if not (_in(day, plan.start, plan.end) and last_day <= plan.end):
        raise RuleBroken(
            "visit_in_cycle",
            f"A visit of cycle {plan.number} must fall within the cycle, "
            f"{plan.start} to {plan.end}.",
        )


def _check_assessment(plan: CyclePlan, day: date, visits: Sequence[VisitFact]) -> None:
    timing = plan.rules.cycle.timing
    if plan.assessment_skipped:
        raise RuleBroken(
            "assessment_skipped",
            f"Cycle {plan.number} has no assessment: it was opened under the high-performing "
            "option (an assessment every other year).",
        )
    if assessment_of(visits) is not None:
        raise RuleBroken(
            "one_assessment_per_cycle",
            f"Cycle {plan.number} already has its assessment; complete or cancel that one.",
        )
    last_day = day + timedelta(days=timing.assessment_days - 1)
    if day < plan.assessment_earliest or last_day > plan.assessment_latest:
        raise RuleBroken(
            "assessment_window",
            f"The assessment ({timing.assessment_days} days) must fall between start + "
            f"{timing.assessment_earliest_days} days ({plan.assessment_earliest}; no rushed "
            f"assessments) and the end of month {timing.assessment_last_month} "
            f"({plan.assessment_latest}).",
        )


def _check_advisory(plan: CyclePlan, day: date, visits: Sequence[VisitFact]) -> None:
    rules = plan.rules.cycle
    advisory = _advisory(visits)
    if len(advisory) >= plan.advisory_visits_max:
        raise RuleBroken(
            "advisory_visits_per_year",
            f"A cycle has {plan.advisory_visits_min}-{plan.advisory_visits_max} advisory visits "
            f"in the year; cycle {plan.number} already has {len(advisory)}.",
        )
    initial_max, initial_end = plan.initial_visits_max, plan.initial_advisory_end
    if initial_max is not None and _in(day, plan.start, initial_end):
        in_initial = [v for v in advisory if _in(v.date, plan.start, initial_end)]
        if len(in_initial) >= initial_max:
            raise RuleBroken(
                "initial_advisory_visits",
                f"A factory's first cycle has {rules.visits.initial_first_cycle_min}-"
                f"{rules.visits.initial_first_cycle_max} advisory visits in months 1-3 "
                f"(until {initial_end}); this cycle already has {len(in_initial)}.",
            )


def check_visit(
    plan: CyclePlan, *, type: str, day: date, visits: Sequence[VisitFact], assessors: int | None
) -> None:
    """May a visit of `type` on `day` be added to the cycle whose visits are `visits`?"""
    timing = plan.rules.cycle.timing
    last_day = day + timedelta(days=timing.assessment_days - 1) if type == ASSESSMENT else day
    _check_in_cycle(plan, day, last_day)
    if type == ASSESSMENT:
        _check_assessment(plan, day, visits)
        if assessors is not None and assessors != timing.assessors:
            raise RuleBroken(
                "two_assessors",
                f"An assessment is done by {timing.assessors} assessors; {assessors} were named.",
            )
    elif type in ADVISORY_TYPES:
        _check_advisory(plan, day, visits)
    elif type == "shadow_assessment":
        if plan.assessment_skipped:
            raise RuleBroken(
                "assessment_skipped",
                f"Cycle {plan.number} has no assessment to shadow (high-performing option).",
            )
        held = assessment_of(visits)
        if held is not None and held.completed:
            raise RuleBroken(
                "assessment_already_held",
                f"The assessment of cycle {plan.number} has taken place; there is none to shadow.",
            )


def check_request_date(*, day: date, today: date) -> None:
    """Buyers ask for visits ahead; only advisors record visits after the fact."""
    if day < today:
        raise RuleBroken(
            "request_not_in_past",
            f"Ask for a visit on a day to come; {day} is before today ({today}).",
        )


def shadow_key(*, type: str, buyer_org: str, country: str, year: int, slot: int) -> str:
    """One of the buyer's `limit` shadow slots of a year: unique in the database, so two
    concurrent requests can never both take the last one."""
    return f"{type}:{country}:{year}:{buyer_org}:{slot}"


def check_shadow_limit(
    *, type: str, buyer_org: str, country: str, day: date, taken: Sequence[VisitFact], limit: int
) -> None:
    """`taken`: the buyer's active visits of `type` in `country` in `day`'s year."""
    if len(taken) >= limit:
        what = "assessment" if type == "shadow_assessment" else "advisory visit"
        raise RuleBroken(
            f"{type}_per_year",
            f"A buyer may shadow at most {limit} {what} per country per calendar year: "
            f"{buyer_org} already has a {type.replace('_', ' ')} in {country} in {day.year} "
            f"(visit {taken[0].id}).",
            limit=limit,
            country=country,
            year=day.year,
        )


def check_completion(
    plan: CyclePlan,
    *,
    visit: VisitFact,
    day: date,
    today: date,
    visits: Sequence[VisitFact],
    assessors: int,
) -> None:
    """May `visit` be recorded as having taken place on `day`?"""
    if visit.status == "completed":
        raise Conflict(f"Visit {visit.id} is already recorded as completed.")
    if visit.status == "cancelled":
        raise Conflict(f"Visit {visit.id} was cancelled; schedule a new one.")
    if visit.type == "shadow_assessment":
        # Recorded with the assessment it shadowed, on its days.
        held = assessment_of(visits)
        if held is None or not held.completed:
            raise RuleBroken(
                "shadow_after_assessment",
                "Record the cycle's assessment first: a shadow assessment is recorded with it.",
            )
        return
    if day > today:
        raise RuleBroken(
            "visit_not_in_future",
            f"A visit is recorded once it has taken place; {day} is after today ({today}).",
        )
    others = [v for v in visits if v.id != visit.id]
    if day != visit.date:
        check_visit(plan, type=visit.type, day=day, visits=others, assessors=None)
    if visit.type == ASSESSMENT and assessors != plan.rules.cycle.timing.assessors:
        raise RuleBroken(
            "two_assessors",
            f"An assessment is done by {plan.rules.cycle.timing.assessors} assessors; name "
            f"both (`assessors`), {assessors} named so far.",
        )


# --- milestones ---------------------------------------------------------------------------


def _status(
    skipped: bool, done: bool, start: date | None, end: date | None, today: date
) -> MilestoneStatus:
    if skipped:
        return "skipped"
    if done:
        return "done"
    if start is None or end is None or today < start:
        return "upcoming"
    if today <= end:
        return "due"
    return "overdue"


def milestone_states(
    plan: CyclePlan, *, visits: Sequence[VisitFact], released: Iterable[str], today: date
) -> list[MilestoneState]:
    """Milestones with their status, from the visits and the documents released in reports.

    Computed from the visits the caller may see (domain/visibility.py filters them first), so
    nothing derived here can reveal a visit the caller may not see."""
    released_codes = {RELEASE_MILESTONES[k] for k in released if k in RELEASE_MILESTONES}
    advisory_done = [v.date for v in visits if v.status == "completed" and v.type in ADVISORY_TYPES]
    assessment = assessment_of(visits)
    states = []
    for code, due, start, end, visits_min, visits_max, skipped in plan.milestones:
        done = code in released_codes
        completed: int | None = None
        held_on: date | None = None
        if visits_min is not None and start is not None and end is not None:
            # The advisory phases: enough completed visits in the phase (and in the year).
            completed = sum(start <= day <= end for day in advisory_done)
            done = completed >= visits_min
            if code == POST_ASSESSMENT_ADVISORY:
                done = done and len(advisory_done) >= plan.advisory_visits_min
        elif assessment is not None and code == ASSESSMENT:
            held_on = assessment.date
            done = assessment.completed
        elif assessment is not None and code == ASSESSMENT_REPORT_RELEASE:
            due, start, end = report_release_window(plan, assessment_on=assessment.date)
        status = _status(skipped, done, start, end, today)
        states.append(
            MilestoneState(
                code, due, start, end, status, visits_min, visits_max, completed, held_on
            )
        )
    return states


# --- training -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingBalance:
    allowance: int
    purchased: int
    used: int

    @property
    def remaining(self) -> int:
        return self.allowance + self.purchased - self.used


def check_training(balance: TrainingBalance, *, participants: int, days: int) -> int:
    """Participant-days of a booking (participants x days) when the balance covers them."""
    needed = participants * days
    if needed > balance.remaining:
        short = needed - balance.remaining
        raise RuleBroken(
            "training_allowance",
            f"The booking needs {needed} participant-days ({participants} x {days}) but "
            f"{balance.remaining} remain ({balance.allowance} included, {balance.purchased} "
            f"purchased, {balance.used} used). Purchase at least {short} extra participant-days "
            "first (POST /cycles/{id}/training/purchases).",
            needed=needed,
            remaining=balance.remaining,
            shortfall=short,
        )
    return needed
