"""The rules of report cycles, documents, plans, third-party access and the public portal:
pure functions, no I/O (access decisions are in `domain/access.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from services.reports.schemas import (
    BulkAccessOutcome,
    DocumentKind,
    DocumentStatus,
    PlanItemSource,
    TpaStatus,
)
from shared.errors import Conflict, Unprocessable

__all__ = [
    "FindingFacts",
    "NewPlanItem",
    "PublicCompliance",
    "check_draft",
    "check_editable",
    "check_releasable",
    "footprint_year",
    "is_newer_assessment",
    "plan_changes",
    "plan_items_from_findings",
    "public_compliance",
    "reopened_tpa_status",
    "tpa_transition",
]

SINGLE_PER_CYCLE = frozenset(
    {DocumentKind.ASSESSMENT, DocumentKind.PROGRESS_REPORT_1, DocumentKind.PROGRESS_REPORT_2}
)
TITLE_LIMIT = 200

# action -> (the states it may start from, the state it leads to)
TPA_ACTIONS: Mapping[str, tuple[frozenset[TpaStatus], TpaStatus]] = {
    "approve": (frozenset({TpaStatus.PENDING, TpaStatus.APPROVED}), TpaStatus.APPROVED),
    "decline": (frozenset({TpaStatus.PENDING, TpaStatus.DECLINED}), TpaStatus.DECLINED),
    "revoke": (frozenset({TpaStatus.APPROVED, TpaStatus.REVOKED}), TpaStatus.REVOKED),
}


class FindingFacts(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def cluster(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def publicly_reported(self) -> bool: ...
    @property
    def compliant(self) -> bool: ...
    @property
    def detail(self) -> str | None: ...


class DocumentState(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def submitted_at(self) -> datetime | None: ...


def check_draft(*, kind: DocumentKind, has_findings: bool, existing_kinds: Iterable[str]) -> None:
    """A new draft: findings belong to assessments only; one assessment, PR1 and PR2 per cycle."""
    if has_findings and kind is not DocumentKind.ASSESSMENT:
        raise Unprocessable("Only an assessment report carries findings; remove 'findings'.")
    if kind in SINGLE_PER_CYCLE and kind in set(existing_kinds):
        raise Conflict(
            f"This cycle already has a {kind} document; update its draft instead "
            "(PATCH /reports/{id}) — a cycle has one of each, advisory log entries aside."
        )


def check_editable(document: DocumentState, *, has_findings: bool) -> None:
    if document.status != DocumentStatus.DRAFT:
        raise Conflict("A released document cannot be changed.")
    if document.submitted_at is not None:
        raise Conflict("This progress report has been submitted; it can no longer be changed.")
    if has_findings and document.kind != DocumentKind.ASSESSMENT:
        raise Unprocessable("Only an assessment report carries findings; remove 'findings'.")


def check_releasable(document: DocumentState) -> bool:
    """True when release must happen now; False when it already has (a retry: no-op)."""
    if document.status == DocumentStatus.RELEASED:
        return False
    if document.kind == DocumentKind.PROGRESS_REPORT_1 and document.submitted_at is None:
        raise Conflict(
            "The factory has not submitted this progress report yet "
            "(POST /reports/{id}/submit); it can be released once submitted."
        )
    return True


def tpa_transition(current: str, action: str) -> TpaStatus:
    """The TPA status after the factory's `action`; repeating an action is a no-op."""
    allowed_from, target = TPA_ACTIONS[action]
    if current not in allowed_from:
        raise Conflict(
            f"A {current} access request cannot be {target}; "
            f"only {' or '.join(sorted(s.value for s in allowed_from if s != target))} ones can."
        )
    return target


def reopened_tpa_status(current: str) -> TpaStatus | None:
    """A buyer asking again: declined or revoked requests become pending again; pending or
    approved ones stay as they are (None)."""
    if current in (TpaStatus.DECLINED, TpaStatus.REVOKED):
        return TpaStatus.PENDING
    return None


# A buyer's existing request → what a bulk request reports for the factory (no change).
_KEPT = {
    TpaStatus.APPROVED: BulkAccessOutcome.ALREADY_APPROVED,
    TpaStatus.PENDING: BulkAccessOutcome.ALREADY_REQUESTED,
}


def bulk_access_outcome(
    *, enrolment_status: str | None, tpa_status: str | None
) -> BulkAccessOutcome:
    """One factory of a bulk access request: unknown to the registry; already approved or
    pending (kept as it is, enrolled or not); not enrolled (nothing asked); else requested
    (new, or a declined or revoked request asked again, as the single request does)."""
    if enrolment_status is None:
        return BulkAccessOutcome.UNKNOWN
    kept = _KEPT.get(TpaStatus(tpa_status)) if tpa_status is not None else None
    if kept is not None:
        return kept
    if enrolment_status != "enrolled":
        return BulkAccessOutcome.NOT_ENROLLED
    return BulkAccessOutcome.REQUESTED


@dataclass(frozen=True, slots=True)
class NewPlanItem:
    source: PlanItemSource
    title: str
    detail: str | None = None
    owner: str | None = None
    due_date: date | None = None
    status: str = "open"
    finding_id: str | None = None


def _title(text: str) -> str:
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


def plan_items_from_findings(findings: Iterable[FindingFacts]) -> list[NewPlanItem]:
    """Every non-compliance in a released assessment becomes an item of the live plan."""
    return [
        NewPlanItem(
            source=PlanItemSource.ASSESSMENT,
            title=_title(f"{finding.cluster}: {finding.question}"),
            detail=finding.detail,
            finding_id=finding.id,
        )
        for finding in findings
        if not finding.compliant
    ]


def _shown(value: Any) -> str | None:
    return None if value is None else str(value)


def plan_changes(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The history entry of an edit: {field: [old, new]} for the fields that change."""
    return {
        field: [_shown(current[field]), _shown(new)]
        for field, new in update.items()
        if _shown(current[field]) != _shown(new)
    }


@dataclass(frozen=True, slots=True)
class PublicIssue:
    cluster: str
    question: str
    compliant: bool


@dataclass(frozen=True, slots=True)
class PublicCompliance:
    issues: list[PublicIssue]

    @property
    def non_compliant(self) -> int:
        return sum(not issue.compliant for issue in self.issues)


def public_compliance(findings: Iterable[FindingFacts]) -> PublicCompliance:
    """What the transparency portal may show: publicly reported issues only, no details."""
    return PublicCompliance(
        [
            PublicIssue(cluster=f.cluster, question=f.question, compliant=f.compliant)
            for f in findings
            if f.publicly_reported
        ]
    )


def is_newer_assessment(*, shown_cycle: int | None, released_cycle: int) -> bool:
    """The portal shows the assessment of the latest cycle released so far."""
    return shown_cycle is None or released_cycle >= shown_cycle


def footprint_year(moment: datetime) -> int:
    """SPEC §4: the date of the unlock decides the footprint year."""
    return moment.year
