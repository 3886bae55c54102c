"""The cycle schedule (SPEC section 6): month arithmetic and milestones on their boundaries,
with hypothesis properties over any start date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.cycles.domain.schedule import (
    MILESTONE_CODES,
    CyclePlan,
    month_end,
    month_start,
    plan_cycle,
    report_release_window,
)
from services.cycles.rules import (
    CountryRules,
    country_rules,
    current_version,
    cycle_rules,
    versions,
)
from shared.dates import add_months

BD = country_rules("BD", training_participant_days=20)
D = date.fromisoformat


def plan(start: str, number: int = 1, *, high_performing: bool = False) -> CyclePlan:
    return plan_cycle(start=D(start), number=number, rules=BD, high_performing=high_performing)


def known(day: date | None) -> date:
    assert day is not None
    return day


def dates(p: CyclePlan, code: str) -> tuple[str, str, str]:
    m = p.milestone(code)
    assert m.due is not None
    assert m.window_start is not None
    assert m.window_end is not None
    return str(m.window_start), str(m.due), str(m.window_end)


class TestMonthArithmetic:
    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            ("2025-01-15", 1, "2025-02-15"),
            ("2025-01-15", 12, "2026-01-15"),
            ("2025-12-15", 1, "2026-01-15"),
            # Month-end starts clamp to the last day of a shorter month.
            ("2025-01-31", 1, "2025-02-28"),
            ("2024-01-31", 1, "2024-02-29"),
            ("2025-01-31", 2, "2025-03-31"),
            ("2025-01-31", 3, "2025-04-30"),
            ("2025-03-31", 1, "2025-04-30"),
            ("2024-02-29", 12, "2025-02-28"),
            ("2024-02-29", 48, "2028-02-29"),
            ("2100-01-31", 1, "2100-02-28"),  # 2100 is not a leap year
            ("2000-01-31", 1, "2000-02-29"),  # 2000 is
            ("2025-03-31", -1, "2025-02-28"),
        ],
    )
    def test_add_months(self, day: str, months: int, expected: str) -> None:
        assert add_months(D(day), months) == D(expected)

    def test_spec_example_month_4_ends_the_day_before(self) -> None:
        assert month_end(D("2025-01-15"), 4) == D("2025-05-14")

    @pytest.mark.parametrize(
        ("start", "n", "first_day", "last_day"),
        [
            ("2025-01-15", 1, "2025-01-15", "2025-02-14"),
            ("2025-01-31", 1, "2025-01-31", "2025-02-27"),  # clamp: 31 Jan + 1 month = 28 Feb
            ("2025-01-31", 2, "2025-02-28", "2025-03-30"),
            ("2024-01-31", 1, "2024-01-31", "2024-02-28"),  # leap year: + 1 month = 29 Feb
            ("2024-01-31", 2, "2024-02-29", "2024-03-30"),
            ("2024-02-29", 12, "2025-01-29", "2025-02-27"),
            ("2025-01-01", 12, "2025-12-01", "2025-12-31"),
        ],
    )
    def test_month_bounds(self, start: str, n: int, first_day: str, last_day: str) -> None:
        assert month_start(D(start), n) == D(first_day)
        assert month_end(D(start), n) == D(last_day)


class TestMilestones:
    def test_first_cycle_from_the_spec_example_start(self) -> None:
        p = plan("2025-01-15")
        assert p.end == D("2026-01-14")
        assert dates(p, "initial_advisory") == ("2025-01-15", "2025-04-14", "2025-04-14")
        # Target start + 100 days; window start + 90 days .. end of month 4 (Table 2).
        assert dates(p, "assessment") == ("2025-04-15", "2025-04-25", "2025-05-14")
        # About 30 days after the target, by the end of month 5 at the latest.
        assert dates(p, "assessment_report_release") == ("2025-04-15", "2025-05-25", "2025-06-14")
        assert dates(p, "progress_report_1") == ("2025-05-15", "2025-06-14", "2025-06-14")
        assert dates(p, "post_assessment_advisory") == ("2025-04-15", "2026-01-14", "2026-01-14")
        assert dates(p, "progress_report_2") == ("2025-11-15", "2025-12-14", "2025-12-14")
        assert [m.code for m in p.milestones] == list(MILESTONE_CODES)
        assert p.training_participant_days == 20
        assert (p.advisory_visits_min, p.advisory_visits_max) == (6, 8)

    def test_first_cycle_has_two_to_three_initial_visits_later_cycles_at_least_one(self) -> None:
        first, later = plan("2025-01-15", 1), plan("2026-01-15", 2)
        assert (first.milestone("initial_advisory").visits_min, first.initial_visits_max) == (2, 3)
        assert (later.milestone("initial_advisory").visits_min, later.initial_visits_max) == (
            1,
            None,
        )
        assert first.milestone("post_assessment_advisory").visits_min == 3

    def test_month_end_start(self) -> None:
        p = plan("2025-01-31")
        assert p.end == D("2026-01-30")
        assert dates(p, "initial_advisory")[2] == "2025-04-29"  # 31 Jan + 3 months = 30 Apr
        assert dates(p, "assessment") == ("2025-05-01", "2025-05-11", "2025-05-30")
        assert dates(p, "progress_report_1")[1] == "2025-06-29"
        assert dates(p, "progress_report_2")[1] == "2025-12-30"

    def test_leap_day_start(self) -> None:
        p = plan("2024-02-29")
        assert p.end == D("2025-02-27")
        assert dates(p, "progress_report_1")[1] == "2024-07-28"
        assert dates(p, "progress_report_2")[1] == "2025-01-28"
        assert dates(p, "assessment")[1] == "2024-06-08"

    def test_high_performing_cycle_skips_assessment_and_its_report(self) -> None:
        p = plan("2027-01-15", 3, high_performing=True)
        assert p.assessment_skipped
        for code in ("assessment", "assessment_report_release"):
            m = p.milestone(code)
            assert m.skipped
            assert (m.due, m.window_start, m.window_end) == (None, None, None)
        assert p.milestone("progress_report_1").due == D("2027-06-14")

    def test_report_release_counts_from_the_assessment_and_stops_at_month_5(self) -> None:
        p = plan("2025-01-15")
        early = report_release_window(p, assessment_on=D("2025-04-20"))
        assert (early.window_start, early.due, early.window_end) == (
            D("2025-04-20"),
            D("2025-05-20"),
            D("2025-06-14"),
        )
        late = report_release_window(p, assessment_on=D("2025-06-12"))
        assert late.due == D("2025-06-14")

    def test_month_of(self) -> None:
        p = plan("2025-01-31")
        assert p.month_of(D("2025-01-30")) is None
        assert p.month_of(D("2025-01-31")) == 1
        assert p.month_of(D("2025-02-27")) == 1
        assert p.month_of(D("2025-02-28")) == 2
        assert p.month_of(D("2026-01-30")) == 12
        assert p.month_of(D("2026-01-31")) is None

    def test_cycle_numbers_start_at_one(self) -> None:
        with pytest.raises(ValueError, match="start at 1"):
            plan("2025-01-15", 0)


starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(start=starts, number=st.integers(min_value=1, max_value=30))
def test_milestones_are_ordered_and_inside_the_cycle(start: date, number: int) -> None:
    p = plan_cycle(start=start, number=number, rules=BD)
    initial, target, release, pr1, post, pr2 = (known(p.milestone(c).due) for c in MILESTONE_CODES)
    assert start < initial < target <= release <= pr1 < pr2 < post == p.end
    for m in p.milestones:
        assert start <= known(m.window_start) <= known(m.due) <= known(m.window_end) <= p.end
    assert p.assessment_earliest == start + timedelta(days=90)
    assert p.assessment_earliest <= p.assessment_target <= p.assessment_latest


@given(start=starts)
def test_months_are_contiguous_calendar_months(start: date) -> None:
    previous_end = start - timedelta(days=1)
    for n in range(1, 13):
        first, last = month_start(start, n), month_end(start, n)
        assert first == previous_end + timedelta(days=1)
        assert 28 <= (last - first).days + 1 <= 31
        previous_end = last
    assert previous_end == plan_cycle(start=start, number=1, rules=BD).end


@given(day=starts, months=st.integers(min_value=-24, max_value=24))
def test_add_months_keeps_the_day_or_clamps_to_month_end(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    if moved.day != day.day:
        assert moved.day < day.day
        assert (moved + timedelta(days=1)).day == 1  # clamped to the month's last day


@given(start=starts, offset=st.integers(min_value=0, max_value=400))
def test_month_of_agrees_with_month_bounds(start: date, offset: int) -> None:
    p = plan_cycle(start=start, number=1, rules=BD)
    day = start + timedelta(days=offset)
    n = p.month_of(day)
    if day > p.end:
        assert n is None
    else:
        assert n is not None
        assert month_start(start, n) <= day <= month_end(start, n)


LEGACY = country_rules("BD", training_participant_days=20, version="2024-01-01")


class TestTable2EndOfMonth4:
    """Issue 12, item 4: "Assessment and report - end month 4". Both assessment days fall
    between start + 90 days and the end of month 4; the report's target release stays
    assessment + 30 days, at the latest the end of month 5."""

    @pytest.mark.parametrize(
        ("start", "earliest", "latest", "release_latest"),
        [
            ("2025-01-15", "2025-04-15", "2025-05-14", "2025-06-14"),  # the SPEC's example
            ("2025-01-31", "2025-05-01", "2025-05-30", "2025-06-29"),  # 31 Jan + 4 months
            ("2024-02-29", "2024-05-29", "2024-06-28", "2024-07-28"),  # leap day
            ("2025-11-30", "2026-02-28", "2026-03-29", "2026-04-29"),  # over February
            ("2025-12-01", "2026-03-01", "2026-03-31", "2026-04-30"),
        ],
    )
    def test_window_bounds(
        self, start: str, earliest: str, latest: str, release_latest: str
    ) -> None:
        p = plan(start)
        assert (p.assessment_earliest, p.assessment_latest) == (D(earliest), D(latest))
        assert p.assessment_latest == month_end(D(start), 4)
        assessment = p.milestone("assessment")
        assert (assessment.window_start, assessment.window_end) == (D(earliest), D(latest))
        assert p.milestone("assessment_report_release").window_end == D(release_latest)
        assert p.milestone("progress_report_1").due == D(release_latest)

    @pytest.mark.parametrize(
        ("assessment_on", "due"),
        [
            ("2025-04-15", "2025-05-15"),  # earliest: + 30 days
            ("2025-04-25", "2025-05-25"),  # the target
            ("2025-05-13", "2025-06-12"),  # the last day it can start: + 30, still in month 5
        ],
    )
    def test_report_release_is_30_days_after_the_assessment(
        self, assessment_on: str, due: str
    ) -> None:
        window = report_release_window(plan("2025-01-15"), assessment_on=D(assessment_on))
        assert window.due == D(due)
        assert window.window_end == D("2025-06-14")  # by the end of month 5 at the latest

    def test_release_is_capped_at_the_end_of_month_5(self) -> None:
        # A cycle opened with the 2024-01-01 rules may hold its assessment late in month 5.
        p = plan_cycle(start=D("2025-01-15"), number=1, rules=LEGACY)
        assert report_release_window(p, assessment_on=D("2025-06-01")).due == D("2025-06-14")

    @pytest.mark.parametrize(
        ("rules", "version", "latest"),
        [(BD, "2026-11-29", "2025-05-14"), (LEGACY, "2024-01-01", "2025-06-14")],
    )
    def test_each_version_keeps_its_window(
        self, rules: CountryRules, version: str, latest: str
    ) -> None:
        p = plan_cycle(start=D("2025-01-15"), number=1, rules=rules)
        assert p.rules.cycle.version == version
        assert p.assessment_latest == D(latest)
        assert p.assessment_earliest == D("2025-04-15")
        assert p.milestone("progress_report_1").due == D("2025-06-14")


class TestRuleVersions:
    def test_new_cycles_use_the_latest(self) -> None:
        assert versions() == ["2024-01-01", "2026-11-29"]
        assert current_version() == "2026-11-29"
        assert cycle_rules().version == current_version()
        assert country_rules("KH", training_participant_days=15).cycle.version == "2026-11-29"

    def test_only_the_assessment_window_changed(self) -> None:
        old, new = cycle_rules("2024-01-01"), cycle_rules("2026-11-29")
        assert (old.timing.assessment_last_month, new.timing.assessment_last_month) == (5, 4)
        assert replace(old.timing, assessment_last_month=4) == new.timing
        assert (old.visits, old.shadow_limits, old.seminar_capacity_max) == (
            new.visits,
            new.shadow_limits,
            new.seminar_capacity_max,
        )

    def test_an_unknown_version_is_refused(self) -> None:
        with pytest.raises(LookupError, match="2024-01-01, 2026-11-29"):
            cycle_rules("1999-01-01")


@given(start=starts)
def test_the_assessment_fits_between_day_90_and_the_end_of_month_4(start: date) -> None:
    p = plan_cycle(start=start, number=1, rules=BD)
    assert p.assessment_earliest == start + timedelta(days=90)
    assert p.assessment_latest == month_end(start, 4)
    # Room for the two days on the target, and the report before progress report 1.
    assert p.assessment_target + timedelta(days=1) <= p.assessment_latest
    assert p.assessment_latest < known(p.milestone("progress_report_1").due)


def test_seminar_schemas_take_their_cap_from_the_rule_data() -> None:
    from services.cycles.schemas import RegistrationCreate, SeminarCreate

    cap = cycle_rules().seminar_capacity_max
    assert SeminarCreate.model_json_schema()["properties"]["capacity"]["maximum"] == cap
    assert RegistrationCreate.model_json_schema()["properties"]["participants"]["maximum"] == cap
