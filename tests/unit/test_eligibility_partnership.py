"""Partnership applications: the commitments screen and the due-diligence states."""

from __future__ import annotations

import pytest

from services.eligibility.domain import enrolment_changes
from services.eligibility.domain.partnership import (
    COMMITMENTS,
    DECLINED_REASON,
    after_due_diligence,
    screen_commitments,
    sign_agreement,
)
from services.eligibility.exports import csv_lines
from shared.errors import Conflict

ALL_YES = {c.code: True for c in COMMITMENTS}


def test_there_are_eleven_commitments_numbered_as_in_the_guide() -> None:
    assert [c.numeral for c in COMMITMENTS] == [
        "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi"
    ]  # fmt: skip


def test_accepting_every_commitment_submits() -> None:
    assert screen_commitments(ALL_YES).status == "submitted"


@pytest.mark.parametrize("declined", [c.code for c in COMMITMENTS])
def test_declining_any_commitment_rejects_at_once(declined: str) -> None:
    screening = screen_commitments({**ALL_YES, declined: False})
    assert screening.status == "rejected"
    assert screening.rejection_reason == DECLINED_REASON == "engage as participant"
    assert screening.declined == [declined]


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        ([("ILO", "pending")], "due_diligence"),
        ([("ILO", "cleared")], "due_diligence"),
        ([("ILO", "cleared"), ("IFC", "cleared")], "approved"),
        ([("IFC", "cleared"), ("ILO", "cleared")], "approved"),
        ([("ILO", "refused")], "rejected"),
        ([("ILO", "cleared"), ("IFC", "refused")], "rejected"),
        ([("ILO", "cleared"), ("ILO", "cleared")], "due_diligence"),
    ],
)
def test_due_diligence(steps: list[tuple[str, str]], status: str) -> None:
    state, ilo, ifc = "submitted", "pending", "pending"
    for body, outcome in steps:
        result = after_due_diligence(
            status=state,
            ilo=ilo,  # type: ignore[arg-type]
            ifc=ifc,  # type: ignore[arg-type]
            body=body,  # type: ignore[arg-type]
            outcome=outcome,  # type: ignore[arg-type]
        )
        state, ilo, ifc = result.status, result.ilo, result.ifc
    assert state == status


def test_a_final_outcome_cannot_change() -> None:
    with pytest.raises(Conflict, match="final"):
        after_due_diligence(
            status="due_diligence", ilo="cleared", ifc="pending", body="ILO", outcome="refused"
        )


@pytest.mark.parametrize("status", ["rejected", "approved", "agreement_signed"])
def test_due_diligence_only_while_open(status: str) -> None:
    with pytest.raises(Conflict):
        after_due_diligence(
            status=status, ilo="pending", ifc="pending", body="ILO", outcome="cleared"
        )


def test_only_approved_applications_are_signed() -> None:
    assert sign_agreement("approved") == "agreement_signed"
    for status in ("submitted", "due_diligence", "rejected", "agreement_signed"):
        with pytest.raises(Conflict):
            sign_agreement(status)


@pytest.mark.parametrize(
    ("current", "wanted", "changes"),
    [
        ("registered", "enrolled", True),
        ("enrolled", "enrolled", False),
        ("enrolled", "withdrawn", True),
        ("withdrawn", "enrolled", True),
        ("withdrawn", "withdrawn", False),
    ],
)
def test_enrolment_changes(current: str, wanted: str, changes: bool) -> None:
    assert enrolment_changes(current, wanted) is changes  # type: ignore[arg-type]


def test_a_factory_that_never_enrolled_cannot_withdraw() -> None:
    with pytest.raises(Conflict):
        enrolment_changes("registered", "withdrawn")


def test_csv_export_defuses_spreadsheet_formulas() -> None:
    row = (
        b'{"row": 1, "client_ref": "=HYPERLINK(1)", "status": "invalid", "error": {"message": "x"}}'
    )
    text = "".join(csv_lines([row]))
    assert "'=HYPERLINK(1)" in text
