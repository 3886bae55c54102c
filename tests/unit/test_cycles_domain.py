"""Visit rules, shadow limits, milestone status and training, each on both sides of its
boundary (SPEC section 6)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import count

import pytest

from services.cycles.domain import (
    MilestoneState,
    RuleBroken,
    TrainingBalance,
    VisitFact,
    check_completion,
    check_shadow_limit,
    check_training,
    check_visit,
    milestone_states,
)
from services.cycles.domain.schedule import CyclePlan, plan_cycle
from services.cycles.rules import country_rules
from shared.errors import Conflict

D = date.fromisoformat
BD = country_rules("BD", training_participant_days=20)
FIRST = plan_cycle(start=D("2025-01-15"), number=1, rules=BD)  # window 04-15 .. 05-14
# A cycle opened with the first rule data keeps its window to the end of month 5.
LEGACY = plan_cycle(
    start=D("2025-01-15"),
    number=1,
    rules=country_rules("BD", training_participant_days=20, version="2024-01-01"),
)
LATER = plan_cycle(start=D("2026-01-15"), number=2, rules=BD)
SKIPPING = plan_cycle(start=D("2027-01-15"), number=3, rules=BD, high_performing=True)
_ids = count(1)


def visit(type: str, day: str, status: str = "scheduled", buyer: str | None = None) -> VisitFact:
    return VisitFact(id=f"vis_{next(_ids)}", type=type, status=status, date=D(day), buyer_org=buyer)


@contextmanager
def broken(rule: str) -> Iterator[pytest.ExceptionInfo[RuleBroken]]:
    with pytest.raises(RuleBroken) as caught:
        yield caught
    assert caught.value.rule == rule, caught.value.detail


def schedule(
    plan: CyclePlan, type: str, day: str, visits: list[VisitFact], assessors: int | None = None
) -> None:
    check_visit(plan, type=type, day=D(day), visits=visits, assessors=assessors)


class TestAssessmentWindow:
    @pytest.mark.parametrize(
        ("plan", "day", "allowed", "window_end"),
        [
            # Table 2: both days between start + 90 days and the end of month 4 (05-14).
            (FIRST, "2025-04-14", False, "2025-05-14"),  # start + 89: rushed
            (FIRST, "2025-04-15", True, None),  # start + 90
            (FIRST, "2025-04-25", True, None),  # the target, start + 100
            (FIRST, "2025-05-13", True, None),  # second day is the end of month 4
            (FIRST, "2025-05-14", False, "2025-05-14"),  # second day would be in month 5
            (FIRST, "2025-06-13", False, "2025-05-14"),
            # A cycle opened with the 2024-01-01 rules keeps the end of month 5 (06-14).
            (LEGACY, "2025-04-14", False, "2025-06-14"),
            (LEGACY, "2025-05-14", True, None),
            (LEGACY, "2025-06-13", True, None),
            (LEGACY, "2025-06-14", False, "2025-06-14"),
        ],
    )
    def test_window(self, plan: CyclePlan, day: str, allowed: bool, window_end: str | None) -> None:
        if allowed:
            schedule(plan, "assessment", day, [])
        else:
            with broken("assessment_window") as caught:
                schedule(plan, "assessment", day, [])
            assert "2025-04-15" in caught.value.detail
            assert str(window_end) in caught.value.detail
            month = 4 if plan is FIRST else 5
            assert f"end of month {month}" in caught.value.detail

    def test_one_per_cycle_unless_cancelled(self) -> None:
        with broken("one_assessment_per_cycle"):
            schedule(FIRST, "assessment", "2025-05-01", [visit("assessment", "2025-04-25")])
        schedule(
            FIRST, "assessment", "2025-05-01", [visit("assessment", "2025-04-25", "cancelled")]
        )

    @pytest.mark.parametrize(("assessors", "allowed"), [(1, False), (2, True), (3, False)])
    def test_two_assessors(self, assessors: int, allowed: bool) -> None:
        if allowed:
            schedule(FIRST, "assessment", "2025-04-25", [], assessors=assessors)
        else:
            with broken("two_assessors"):
                schedule(FIRST, "assessment", "2025-04-25", [], assessors=assessors)

    def test_skipped_cycle_has_none(self) -> None:
        with broken("assessment_skipped"):
            schedule(SKIPPING, "assessment", "2027-04-25", [])
        with broken("assessment_skipped"):
            schedule(SKIPPING, "shadow_assessment", "2027-04-25", [])


class TestAdvisoryVisits:
    @pytest.mark.parametrize(
        ("day", "allowed"),
        [("2025-01-14", False), ("2025-01-15", True), ("2026-01-14", True), ("2026-01-15", False)],
    )
    def test_inside_the_cycle(self, day: str, allowed: bool) -> None:
        if allowed:
            schedule(FIRST, "advisory", day, [])
        else:
            with broken("visit_in_cycle"):
                schedule(FIRST, "advisory", day, [])

    def test_first_cycle_has_at_most_three_in_months_1_to_3(self) -> None:
        two = [visit("advisory", "2025-01-20"), visit("joint_advisory", "2025-02-20")]
        schedule(FIRST, "advisory", "2025-04-14", two)
        three = [*two, visit("advisory", "2025-03-20")]
        with broken("initial_advisory_visits"):
            schedule(FIRST, "advisory", "2025-04-14", three)
        schedule(FIRST, "advisory", "2025-04-15", three)  # month 4: post-assessment phase
        cancelled = [*two, visit("advisory", "2025-03-20", "cancelled")]
        schedule(FIRST, "advisory", "2025-04-14", cancelled)

    def test_later_cycles_have_no_initial_maximum(self) -> None:
        three = [visit("advisory", f"2026-0{m}-20") for m in (1, 2, 3)]
        schedule(LATER, "advisory", "2026-04-10", three)

    def test_at_most_eight_in_the_year(self) -> None:
        seven = [visit("advisory", f"2026-{m:02d}-01") for m in range(2, 9)]
        schedule(LATER, "joint_advisory", "2026-10-01", seven)
        eight = [*seven, visit("joint_advisory", "2026-10-01")]
        with broken("advisory_visits_per_year"):
            schedule(LATER, "advisory", "2026-11-01", eight)
        # Assessments and shadow visits are not advisory visits.
        schedule(LATER, "assessment", "2026-04-20", eight)


class TestShadowVisits:
    def test_one_per_buyer_country_year(self) -> None:
        check_shadow_limit(
            type="shadow_advisory",
            buyer_org="b",
            country="BD",
            day=D("2025-03-01"),
            taken=[],
            limit=1,
        )
        taken = [visit("shadow_advisory", "2025-01-20", "requested", "b")]
        with broken("shadow_advisory_per_year") as caught:
            check_shadow_limit(
                type="shadow_advisory",
                buyer_org="b",
                country="BD",
                day=D("2025-03-01"),
                taken=taken,
                limit=1,
            )
        assert "BD" in caught.value.detail
        assert "2025" in caught.value.detail
        assert "advisory visit" in caught.value.detail

    def test_shadow_assessment_after_the_assessment_is_refused(self) -> None:
        held = [visit("assessment", "2025-04-25", "completed")]
        with broken("assessment_already_held"):
            schedule(FIRST, "shadow_assessment", "2025-05-01", held)
        schedule(FIRST, "shadow_assessment", "2025-04-25", [visit("assessment", "2025-04-25")])


class TestCompletion:
    def test_not_before_it_happens(self) -> None:
        v = visit("advisory", "2025-02-01")
        check_completion(FIRST, visit=v, day=v.date, today=D("2025-02-01"), visits=[v], assessors=0)
        with broken("visit_not_in_future"):
            check_completion(
                FIRST, visit=v, day=v.date, today=D("2025-01-31"), visits=[v], assessors=0
            )

    def test_assessment_needs_two_assessors(self) -> None:
        v = visit("assessment", "2025-04-25")
        with broken("two_assessors"):
            check_completion(
                FIRST, visit=v, day=v.date, today=D("2025-05-01"), visits=[v], assessors=1
            )
        check_completion(FIRST, visit=v, day=v.date, today=D("2025-05-01"), visits=[v], assessors=2)

    def test_moved_date_is_checked_again(self) -> None:
        v = visit("assessment", "2025-04-25")
        with broken("assessment_window"):
            check_completion(
                FIRST, visit=v, day=D("2025-04-10"), today=D("2025-05-01"), visits=[v], assessors=2
            )

    def test_shadow_assessment_after_the_assessment(self) -> None:
        shadow = visit("shadow_assessment", "2025-04-25", "requested", "b")
        planned = visit("assessment", "2025-04-25")
        with broken("shadow_after_assessment"):
            check_completion(
                FIRST,
                visit=shadow,
                day=shadow.date,
                today=D("2025-05-01"),
                visits=[planned, shadow],
                assessors=0,
            )
        held = visit("assessment", "2025-04-25", "completed")
        check_completion(
            FIRST,
            visit=shadow,
            day=shadow.date,
            today=D("2025-05-01"),
            visits=[held, shadow],
            assessors=0,
        )

    @pytest.mark.parametrize("status", ["completed", "cancelled"])
    def test_only_planned_visits(self, status: str) -> None:
        v = visit("advisory", "2025-02-01", status)
        with pytest.raises(Conflict):
            check_completion(
                FIRST, visit=v, day=v.date, today=D("2025-03-01"), visits=[v], assessors=0
            )


def states(
    plan: CyclePlan, visits: list[VisitFact], today: str, released: tuple[str, ...] = ()
) -> dict[str, MilestoneState]:
    found = milestone_states(plan, visits=visits, released=released, today=D(today))
    return {s.code: s for s in found}


class TestMilestoneStatus:
    @pytest.mark.parametrize(
        ("today", "status"),
        [
            ("2025-04-14", "upcoming"),  # the day before the window opens
            ("2025-04-15", "due"),
            ("2025-05-14", "due"),  # the window's last day: the end of month 4
            ("2025-05-15", "overdue"),
        ],
    )
    def test_assessment_status_follows_its_window(self, today: str, status: str) -> None:
        assert states(FIRST, [], today)["assessment"].status == status

    @pytest.mark.parametrize(
        ("today", "status"), [("2025-06-14", "due"), ("2025-06-15", "overdue")]
    )
    def test_a_legacy_cycle_keeps_its_status_dates(self, today: str, status: str) -> None:
        assert states(LEGACY, [], today)["assessment"].status == status

    def test_assessment_done_when_completed(self) -> None:
        held = visit("assessment", "2025-04-25", "completed")
        s = states(FIRST, [held], "2025-07-01")
        assert s["assessment"].status == "done"
        assert s["assessment"].date == D("2025-04-25")
        release = s["assessment_report_release"]
        assert (release.window_start, release.due) == (D("2025-04-25"), D("2025-05-25"))
        assert release.status == "overdue"

    def test_documents_released_in_reports(self) -> None:
        s = states(
            FIRST,
            [],
            "2026-01-10",
            released=("assessment", "progress_report_1", "progress_report_2", "advisory_log"),
        )
        assert s["assessment_report_release"].status == "done"
        assert s["progress_report_1"].status == "done"
        assert s["progress_report_2"].status == "done"

    def test_initial_advisory_needs_two_visits_in_the_first_cycle(self) -> None:
        one = [visit("advisory", "2025-02-01", "completed")]
        assert states(FIRST, one, "2025-03-01")["initial_advisory"].status == "due"
        assert states(FIRST, one, "2025-04-15")["initial_advisory"].status == "overdue"
        two = [*one, visit("joint_advisory", "2025-03-01", "completed")]
        s = states(FIRST, two, "2025-03-01")["initial_advisory"]
        assert (s.status, s.visits_completed, s.visits_min, s.visits_max) == ("done", 2, 2, 3)
        # Scheduled, not completed, does not count.
        planned = [*one, visit("advisory", "2025-03-01")]
        assert states(FIRST, planned, "2025-03-01")["initial_advisory"].status == "due"

    def test_later_cycles_need_one_initial_visit(self) -> None:
        one = [visit("advisory", "2026-02-01", "completed")]
        assert states(LATER, one, "2026-03-01")["initial_advisory"].status == "done"

    def test_post_assessment_advisory_needs_three_after_and_six_in_the_year(self) -> None:
        initial = [visit("advisory", d, "completed") for d in ("2025-01-20", "2025-02-20")]
        after = [visit("advisory", d, "completed") for d in ("2025-05-01", "2025-07-01")]
        s = states(FIRST, initial + after, "2025-12-01")["post_assessment_advisory"]
        assert (s.status, s.visits_completed) == ("due", 2)
        third = [visit("advisory", "2025-09-01", "completed")]
        s = states(FIRST, initial + after + third, "2025-12-01")["post_assessment_advisory"]
        assert s.status == "due"  # 3 after the assessment, but 5 in the year
        fourth = [visit("advisory", "2025-10-01", "completed")]
        all_six = initial + after + third + fourth
        assert states(FIRST, all_six, "2025-12-01")["post_assessment_advisory"].status == "done"

    def test_skipped_cycle(self) -> None:
        s = states(SKIPPING, [], "2027-05-01")
        assert s["assessment"].status == "skipped"
        assert s["assessment_report_release"].status == "skipped"
        assert s["progress_report_1"].status == "upcoming"

    def test_progress_report_windows(self) -> None:
        assert states(FIRST, [], "2025-05-14")["progress_report_1"].status == "upcoming"
        assert states(FIRST, [], "2025-05-15")["progress_report_1"].status == "due"
        assert states(FIRST, [], "2025-06-15")["progress_report_1"].status == "overdue"
        assert states(FIRST, [], "2025-12-14")["progress_report_2"].status == "due"
        assert states(FIRST, [], "2025-12-15")["progress_report_2"].status == "overdue"


class TestTraining:
    def test_exactly_the_allowance(self) -> None:
        balance = TrainingBalance(allowance=15, purchased=0, used=0)
        assert check_training(balance, participants=5, days=3) == 15

    def test_one_more_than_remains_needs_a_purchase(self) -> None:
        balance = TrainingBalance(allowance=15, purchased=0, used=10)
        with broken("training_allowance") as caught:
            check_training(balance, participants=3, days=2)
        assert caught.value.extra["shortfall"] == 1
        assert "Purchase at least 1" in caught.value.detail
        topped_up = TrainingBalance(allowance=15, purchased=1, used=10)
        assert check_training(topped_up, participants=3, days=2) == 6
        assert topped_up.remaining == 6


def test_rules_name_the_day_after_adding_days() -> None:
    assert FIRST.assessment_earliest == FIRST.start + timedelta(days=90)
