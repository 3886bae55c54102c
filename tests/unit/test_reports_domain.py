"""The pure rules of the reports service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from services.reports import domain
from services.reports.schemas import DocumentKind, PlanItemSource, TpaStatus
from shared.errors import Conflict, Unprocessable

MOMENT = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Finding:
    id: str
    cluster: str
    question: str
    publicly_reported: bool
    compliant: bool
    detail: str | None = None


@dataclass(frozen=True)
class Doc:
    kind: str
    status: str = "draft"
    submitted_at: datetime | None = None


class TestCheckDraft:
    @pytest.mark.parametrize("kind", list(DocumentKind))
    def test_first_document_of_each_kind_is_fine(self, kind: DocumentKind) -> None:
        domain.check_draft(kind=kind, has_findings=False, existing_kinds=[])

    @pytest.mark.parametrize(
        "kind",
        [
            DocumentKind.ASSESSMENT,
            DocumentKind.PROGRESS_REPORT_1,
            DocumentKind.PROGRESS_REPORT_2,
        ],
    )
    def test_one_assessment_pr1_pr2_per_cycle(self, kind: DocumentKind) -> None:
        with pytest.raises(Conflict, match=str(kind)):
            domain.check_draft(kind=kind, has_findings=False, existing_kinds=[kind.value])

    def test_advisory_log_entries_are_many(self) -> None:
        domain.check_draft(
            kind=DocumentKind.ADVISORY_LOG,
            has_findings=False,
            existing_kinds=["advisory_log", "advisory_log", "assessment"],
        )

    @pytest.mark.parametrize(
        ("kind", "allowed"),
        [
            (DocumentKind.ASSESSMENT, True),
            (DocumentKind.PROGRESS_REPORT_1, False),
            (DocumentKind.PROGRESS_REPORT_2, False),
            (DocumentKind.ADVISORY_LOG, False),
        ],
    )
    def test_findings_only_on_assessments(self, kind: DocumentKind, allowed: bool) -> None:
        if allowed:
            domain.check_draft(kind=kind, has_findings=True, existing_kinds=[])
        else:
            with pytest.raises(Unprocessable, match="findings"):
                domain.check_draft(kind=kind, has_findings=True, existing_kinds=[])


class TestEditAndRelease:
    def test_drafts_are_editable(self) -> None:
        domain.check_editable(Doc("assessment"), has_findings=True)

    def test_released_is_final(self) -> None:
        with pytest.raises(Conflict, match="released"):
            domain.check_editable(Doc("assessment", "released"), has_findings=False)

    def test_submitted_pr1_is_final(self) -> None:
        with pytest.raises(Conflict, match="submitted"):
            domain.check_editable(Doc("progress_report_1", submitted_at=MOMENT), has_findings=False)

    def test_findings_on_other_kinds_refused(self) -> None:
        with pytest.raises(Unprocessable):
            domain.check_editable(Doc("advisory_log"), has_findings=True)

    @pytest.mark.parametrize("kind", ["assessment", "progress_report_2", "advisory_log"])
    def test_release_of_a_draft(self, kind: str) -> None:
        assert domain.check_releasable(Doc(kind)) is True

    def test_release_again_is_a_no_op(self) -> None:
        assert domain.check_releasable(Doc("assessment", "released")) is False

    def test_pr1_needs_the_factory_to_submit_it(self) -> None:
        with pytest.raises(Conflict, match="submit"):
            domain.check_releasable(Doc("progress_report_1"))
        assert domain.check_releasable(Doc("progress_report_1", submitted_at=MOMENT)) is True


# action -> {from state: to state, or None for a 409}
TPA_TABLE = {
    "approve": {"pending": "approved", "approved": "approved", "declined": None, "revoked": None},
    "decline": {"pending": "declined", "approved": None, "declined": "declined", "revoked": None},
    "revoke": {"pending": None, "approved": "revoked", "declined": None, "revoked": "revoked"},
}


@pytest.mark.parametrize(
    ("action", "current", "target"),
    [(a, s, t) for a, row in TPA_TABLE.items() for s, t in row.items()],
)
def test_tpa_transitions(action: str, current: str, target: str | None) -> None:
    if target is None:
        with pytest.raises(Conflict):
            domain.tpa_transition(current, action)
    else:
        assert domain.tpa_transition(current, action) == target


@pytest.mark.parametrize(
    ("current", "reopened"),
    [("pending", None), ("approved", None), ("declined", "pending"), ("revoked", "pending")],
)
def test_asking_again(current: str, reopened: str | None) -> None:
    assert domain.reopened_tpa_status(current) == (TpaStatus(reopened) if reopened else None)


FINDINGS = [
    Finding("f1", "Child Labour", "Child labourers present?", True, True),
    Finding("f2", "OSH", "Fire exits blocked?", True, False, "Exit B locked"),
    Finding("f3", "Compensation", "Overtime wages?", False, False, "Confidential detail"),
    Finding("f4", "Contracts", "Written contracts?", False, True),
]


def test_plan_items_from_non_compliant_findings_only() -> None:
    items = domain.plan_items_from_findings(FINDINGS)
    assert [i.finding_id for i in items] == ["f2", "f3"]
    assert items[0].title == "OSH: Fire exits blocked?"
    assert items[0].detail == "Exit B locked"
    assert {i.source for i in items} == {PlanItemSource.ASSESSMENT}
    assert {i.status for i in items} == {"open"}


def test_plan_item_titles_fit_the_column() -> None:
    long = Finding("f", "C" * 100, "Q" * 500, False, False)
    [item] = domain.plan_items_from_findings([long])
    assert len(item.title) == domain.TITLE_LIMIT


def test_plan_changes_lists_only_what_changes() -> None:
    current = {"owner": "HR", "due_date": date(2026, 5, 1), "status": "open", "detail": None}
    update = {"owner": "HR", "due_date": date(2026, 6, 1), "status": "done", "detail": "x"}
    assert domain.plan_changes(current, update) == {
        "due_date": ["2026-05-01", "2026-06-01"],
        "status": ["open", "done"],
        "detail": [None, "x"],
    }
    assert domain.plan_changes(current, {"owner": "HR"}) == {}


def test_public_compliance_shows_public_issues_without_details() -> None:
    compliance = domain.public_compliance(FINDINGS)
    assert [(i.cluster, i.compliant) for i in compliance.issues] == [
        ("Child Labour", True),
        ("OSH", False),
    ]
    assert compliance.non_compliant == 1
    assert not any(hasattr(issue, "detail") for issue in compliance.issues)


@pytest.mark.parametrize(
    ("shown", "released", "newer"), [(None, 1, True), (1, 2, True), (2, 2, True), (3, 2, False)]
)
def test_newer_assessment(shown: int | None, released: int, newer: bool) -> None:
    assert domain.is_newer_assessment(shown_cycle=shown, released_cycle=released) is newer


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), 2025),
        (datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), 2026),
    ],
)
def test_the_unlock_date_decides_the_footprint_year(moment: datetime, year: int) -> None:
    assert domain.footprint_year(moment) == year
