"""Differentiation (guide Table 2, part C): two consecutive assessments, four criteria,
each reported with its evidence; the every-other-year option."""

from __future__ import annotations

import pytest

from services.cycles.domain.differentiation import (
    AdvisorEvidence,
    AssessedCycle,
    CycleRecord,
    Finding,
    check_high_performing_option,
    classification_basis,
    classify,
)
from shared.errors import Conflict, Unprocessable

ALL_MET = AdvisorEvidence(
    elements={
        "management_systems": {"osh_management_system": True, "hr_management_system": True},
        "social_dialogue": {
            "active_bipartite_committee": True,
            "management_decision_authority": True,
            "freely_chosen_worker_members": True,
            "open_union_communication": True,
            "effective_grievance_handling": True,
        },
        "learning": {"needs_based_learning_plan": True, "learning_plan_implemented": True},
    },
    notes={
        "management_systems": "OSH committee minutes 2025",
        "social_dialogue": "PICC elections observed",
        "learning": "Learning plan v2 signed by worker reps",
    },
)
COMPLIANT = (
    Finding("OSH", "Emergency exits unlocked?", publicly_reported=True, compliant=True),
    Finding("Wages", "Overtime paid correctly?", publicly_reported=False, compliant=False),
)


def record(number: int, *, held: bool = True, skipped: bool = False) -> CycleRecord:
    return CycleRecord(number=number, assessment_skipped=skipped, assessment_held=held)


class TestBasis:
    @pytest.mark.parametrize(
        "cycles",
        [[], [record(1)], [record(1), record(2, held=False)]],
        ids=["no cycle", "one assessment", "second not held yet"],
    )
    def test_no_fast_track(self, cycles: list[CycleRecord]) -> None:
        with pytest.raises(Conflict, match="no fast track"):
            classification_basis(cycles)

    def test_last_two_assessments(self) -> None:
        assert classification_basis([record(1), record(2)]) == (1, 2)
        assert classification_basis([record(1), record(2), record(3)]) == (2, 3)
        # A running cycle whose assessment is still ahead does not count yet.
        assert classification_basis([record(1), record(2), record(3, held=False)]) == (1, 2)

    def test_skipped_cycles_are_passed_over(self) -> None:
        cycles = [record(1), record(2), record(3, held=False, skipped=True), record(4)]
        assert classification_basis(cycles) == (2, 4)

    def test_a_missed_assessment_breaks_the_sequence(self) -> None:
        with pytest.raises(Conflict, match="cycle 2 was not held"):
            classification_basis([record(1), record(2, held=False), record(3)])


def assessed(cycle: int, *findings: Finding, released: bool = True) -> AssessedCycle:
    return AssessedCycle(cycle=cycle, released=released, findings=findings or COMPLIANT)


class TestCriteria:
    def test_high_performing_when_all_four_hold(self) -> None:
        result = classify([assessed(1), assessed(2)], ALL_MET)
        assert result.high_performing
        assert result.failed == ()
        assert [c.code for c in result.criteria] == [
            "public_compliance",
            "management_systems",
            "social_dialogue",
            "learning",
        ]
        public = result.criteria[0]
        assert public.evidence == (
            "Cycle 1 assessment report: no non-compliance on the 1 publicly reported issue(s) "
            "assessed.",
            "Cycle 2 assessment report: no non-compliance on the 1 publicly reported issue(s) "
            "assessed.",
        )
        assert "Advisor's evidence: PICC elections observed" in result.criteria[2].evidence

    def test_a_public_non_compliance_in_either_assessment_fails_criterion_1(self) -> None:
        failing = Finding(
            "Child labour", "Age verification?", publicly_reported=True, compliant=False
        )
        result = classify([assessed(1), assessed(2, failing)], ALL_MET)
        assert not result.high_performing
        assert result.failed == ("public_compliance",)
        assert result.criteria[0].failed_elements == ("cycle_2:Child labour:Age verification?",)
        assert "1 non-compliance(s)" in result.criteria[0].evidence[1]

    @pytest.mark.parametrize(
        ("criterion", "element"),
        [
            ("management_systems", "hr_management_system"),
            ("social_dialogue", "effective_grievance_handling"),
            ("learning", "learning_plan_implemented"),
        ],
    )
    def test_each_recorded_criterion_names_its_failing_element(
        self, criterion: str, element: str
    ) -> None:
        elements = {code: dict(values) for code, values in ALL_MET.elements.items()}
        elements[criterion][element] = False
        result = classify([assessed(1), assessed(2)], AdvisorEvidence(elements, ALL_MET.notes))
        assert result.failed == (criterion,)
        failed = next(c for c in result.criteria if c.code == criterion)
        assert failed.failed_elements == (element,)
        assert any(line.startswith("Not met") for line in failed.evidence)

    def test_unreleased_report_is_refused(self) -> None:
        with pytest.raises(Conflict, match="cycle 2 is not released"):
            classify([assessed(1), assessed(2, released=False)], ALL_MET)


class TestEveryOtherYear:
    def test_only_for_high_performing(self) -> None:
        with pytest.raises(Unprocessable, match="classified high-performing"):
            check_high_performing_option(high_performing=False, previous_skipped=False)
        with pytest.raises(Unprocessable, match="classified high-performing"):
            check_high_performing_option(high_performing=True, previous_skipped=None)

    def test_every_other_year(self) -> None:
        check_high_performing_option(high_performing=True, previous_skipped=False)
        with pytest.raises(Unprocessable, match="every other year"):
            check_high_performing_option(high_performing=True, previous_skipped=True)
