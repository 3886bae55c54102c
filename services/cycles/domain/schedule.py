"""The cycle schedule (SPEC section 6, Table 2) as a pure function of the start date, the
cycle number, the country's rules and the high-performing option. No I/O, no clock.

Month arithmetic: month *n* of a cycle ends the day before the same calendar day *n*
months after the start (start 2025-01-15: month 4 ends 2025-05-14). When that calendar
day does not exist in the target month, it is clamped to the month's last day, as
PostgreSQL's `date + interval 'n months'` and dateutil's `relativedelta` do: 31 January +
1 month is 28 February (29 in a leap year), so month 1 of a cycle starting 2025-01-31
ends on 2025-02-27, and month 2 on 2025-03-30. Months are always counted from the start
date, never chained, so a clamp in February never shortens later months.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Final, NamedTuple

from services.cycles.rules import CountryRules
from shared.dates import add_months

__all__ = [
    "MILESTONE_CODES",
    "MILESTONE_TITLES",
    "CyclePlan",
    "PlannedMilestone",
    "ReleaseWindow",
    "month_end",
    "month_start",
    "plan_cycle",
    "report_release_window",
]

INITIAL_ADVISORY: Final = "initial_advisory"
ASSESSMENT: Final = "assessment"
ASSESSMENT_REPORT_RELEASE: Final = "assessment_report_release"
PROGRESS_REPORT_1: Final = "progress_report_1"
POST_ASSESSMENT_ADVISORY: Final = "post_assessment_advisory"
PROGRESS_REPORT_2: Final = "progress_report_2"
MILESTONE_CODES: Final = (
    INITIAL_ADVISORY,
    ASSESSMENT,
    ASSESSMENT_REPORT_RELEASE,
    PROGRESS_REPORT_1,
    POST_ASSESSMENT_ADVISORY,
    PROGRESS_REPORT_2,
)
MILESTONE_TITLES: Final = {
    INITIAL_ADVISORY: "Initial advisory: first visits, bipartite committee, self-diagnosis",
    ASSESSMENT: "Unannounced assessment (two assessors, two days)",
    ASSESSMENT_REPORT_RELEASE: "Assessment report released",
    PROGRESS_REPORT_1: "Progress report 1 (written by the factory)",
    POST_ASSESSMENT_ADVISORY: "Advisory visits after the assessment",
    PROGRESS_REPORT_2: "Progress report 2 (written by Better Work)",
}
_ONE_DAY: Final = timedelta(days=1)


def month_start(start: date, n: int) -> date:
    """First day of month `n` (1-based) of a cycle starting on `start`."""
    return add_months(start, n - 1)


def month_end(start: date, n: int) -> date:
    """Last day of month `n`: the day before the same calendar day `n` months later."""
    return add_months(start, n) - _ONE_DAY


# NamedTuples rather than frozen dataclasses: as immutable, and several times cheaper to
# build, which matters when a list or a calendar computes hundreds of cycles.
class PlannedMilestone(NamedTuple):
    code: str
    due: date | None
    window_start: date | None
    window_end: date | None
    # Advisory phases count visits; None where the rule sets no bound.
    visits_min: int | None = None
    visits_max: int | None = None
    skipped: bool = False


class ReleaseWindow(NamedTuple):
    due: date
    window_start: date
    window_end: date


class CyclePlan(NamedTuple):
    start: date
    end: date
    number: int
    country: str
    assessment_skipped: bool
    assessment_target: date
    assessment_earliest: date
    assessment_latest: date
    initial_advisory_end: date
    initial_visits_max: int | None
    training_participant_days: int
    advisory_visits_min: int
    advisory_visits_max: int
    milestones: tuple[PlannedMilestone, ...]
    rules: CountryRules

    def milestone(self, code: str) -> PlannedMilestone:
        for milestone in self.milestones:
            if milestone.code == code:
                return milestone
        raise KeyError(code)

    def month_of(self, day: date) -> int | None:
        """The cycle month (1..12) that `day` falls in, or None outside the cycle."""
        if not self.start <= day <= self.end:
            return None
        months = (day.year - self.start.year) * 12 + day.month - self.start.month
        # `months` is the calendar-month distance; the cycle month may be one less.
        n = months + 1
        if day < month_start(self.start, n):
            n -= 1
        return n


def report_release_window(plan: CyclePlan, *, assessment_on: date) -> ReleaseWindow:
    """About 30 days after the assessment, by the end of month 5 at the latest."""
    timing = plan.rules.cycle.timing
    latest = month_end(plan.start, timing.report_release_last_month)
    due = min(assessment_on + timedelta(days=timing.report_release_days_after_assessment), latest)
    return ReleaseWindow(due=due, window_start=min(assessment_on, latest), window_end=latest)


@cache
def _days(n: int) -> timedelta:
    return timedelta(days=n)


def plan_cycle(
    *, start: date, number: int, rules: CountryRules, high_performing: bool = False
) -> CyclePlan:
    """The milestones of cycle `number` starting on `start`.

    `high_performing` is the every-other-year option of a high-performing factory: when
    set, this cycle has no assessment (and so no assessment report to release).
    """
    if number < 1:
        raise ValueError("cycle numbers start at 1")
    timing = rules.cycle.timing
    visits = rules.cycle.visits
    # Month boundaries, each computed once (several milestones share them): month n
    # starts on bound(n - 1) and ends the day before bound(n).
    bounds: dict[int, date] = {}

    def bound(n: int) -> date:
        found = bounds.get(n)
        if found is None:
            found = bounds[n] = add_months(start, n)
        return found

    def end_of(n: int) -> date:
        return bound(n) - _ONE_DAY

    end = end_of(timing.cycle_months)
    target = start + _days(timing.assessment_target_days)
    earliest = start + _days(timing.assessment_earliest_days)
    latest = end_of(timing.assessment_last_month)
    initial_end = end_of(timing.initial_advisory_last_month)
    first = number == 1
    initial_min = visits.initial_first_cycle_min if first else visits.initial_later_cycles_min
    initial_max = visits.initial_first_cycle_max if first else None

    # Positional: (code, due, window_start, window_end, visits_min, visits_max, skipped).
    if high_performing:
        assessment = PlannedMilestone(ASSESSMENT, None, None, None, None, None, True)
        release = PlannedMilestone(ASSESSMENT_REPORT_RELEASE, None, None, None, None, None, True)
    else:
        assessment = PlannedMilestone(ASSESSMENT, target, earliest, latest)
        # Counted from the target until an assessment date is known (domain.milestones).
        release_latest = end_of(timing.report_release_last_month)
        release_due = min(
            target + _days(timing.report_release_days_after_assessment), release_latest
        )
        release = PlannedMilestone(ASSESSMENT_REPORT_RELEASE, release_due, earliest, release_latest)
    pr1 = timing.progress_report_1_month
    post_first, post_last = timing.post_assessment_first_month, timing.post_assessment_last_month
    pr2 = timing.progress_report_2_month
    milestones = (
        PlannedMilestone(
            INITIAL_ADVISORY, initial_end, start, initial_end, initial_min, initial_max
        ),
        assessment,
        release,
        PlannedMilestone(PROGRESS_REPORT_1, end_of(pr1), bound(pr1 - 1), end_of(pr1)),
        PlannedMilestone(
            POST_ASSESSMENT_ADVISORY,
            end_of(post_last),
            bound(post_first - 1),
            end_of(post_last),
            visits.post_assessment_min,
        ),
        PlannedMilestone(PROGRESS_REPORT_2, end_of(pr2), bound(pr2 - 1), end_of(pr2)),
    )
    return CyclePlan(
        start=start,
        end=end,
        number=number,
        country=rules.country,
        assessment_skipped=high_performing,
        assessment_target=target,
        assessment_earliest=earliest,
        assessment_latest=latest,
        initial_advisory_end=initial_end,
        initial_visits_max=initial_max,
        training_participant_days=rules.training_participant_days,
        advisory_visits_min=visits.advisory_per_year_min,
        advisory_visits_max=visits.advisory_per_year_max,
        milestones=milestones,
        rules=rules,
    )
