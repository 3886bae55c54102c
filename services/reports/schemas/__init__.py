"""Request and response schemas of the reports service (the public and internal contract).

Every string has a length bound and refuses control characters (shared/types.py): a NUL
byte cannot be stored in PostgreSQL, and an unbounded string is an unbounded row.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, UrlConstraints

from shared.types import Id, text

__all__ = [
    "MAX_BULK_ACCESS",
    "AuditDiscrepancy",
    "AuditPublic",
    "BulkAccessOutcome",
    "CycleNumber",
    "DocumentKind",
    "DocumentStatus",
    "NotificationKind",
    "PlanItemSource",
    "PlanItemStatus",
    "TpaStatus",
]

MAX_CYCLE = 1000

CycleNumber = Annotated[int, Field(ge=1, le=MAX_CYCLE, description="The cycle number (1, 2, …).")]
Title = Annotated[str, text(200)]
Text = Annotated[str, text(100_000, min_length=0, multiline=True, strip=False)]
Note = Annotated[str, text(2000, min_length=0, multiline=True, strip=False)]
Owner = Annotated[str, text(200)]


class DocumentKind(StrEnum):
    ASSESSMENT = "assessment"
    PROGRESS_REPORT_1 = "progress_report_1"
    PROGRESS_REPORT_2 = "progress_report_2"
    ADVISORY_LOG = "advisory_log"


class DocumentStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"


class TpaStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    REVOKED = "revoked"


class SupplierPublic(BaseModel):
    """A registry factory as buyers find it (supplier quick-find): public fields only."""

    id: str = Field(description="The registry id: `factory_id` of access requests.")
    name: str
    country: str
    region: str | None
    os_id: str | None
    enrolled: bool = Field(description="Enrolled in Better Work (registered and paid).")
    tpa_status: Literal["pending", "approved", "declined", "revoked"] | None = Field(
        description="Your organisation's third-party access request for it, if any "
        "(always null for advisors)."
    )
    has_tpa: bool = Field(description="Your organisation holds an approved TPA for it.")
    match_score: float | None = Field(
        description="How close the name is to `q` (0..100); null without `q`."
    )


class SupplierPage(BaseModel):
    items: list[SupplierPublic]
    next_cursor: str | None = None


class BulkAccessOutcome(StrEnum):
    """What a bulk access request did for one factory."""

    REQUESTED = "requested"  # a new request, or a declined/revoked one asked again
    ALREADY_REQUESTED = "already_requested"  # pending already: unchanged
    ALREADY_APPROVED = "already_approved"  # you hold its TPA: unchanged
    NOT_ENROLLED = "not_enrolled"  # in the registry, not enrolled in Better Work
    UNKNOWN = "unknown"  # not in the registry (or a list row that matched no one factory)


class PlanItemSource(StrEnum):
    SELF_DIAGNOSIS = "self_diagnosis"
    ASSESSMENT = "assessment"
    SEMINAR = "seminar"
    ADVISORY = "advisory"


class PlanItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"


class NotificationKind(StrEnum):
    TPA_REQUESTED = "tpa_requested"
    TPA_APPROVED = "tpa_approved"
    TPA_DECLINED = "tpa_declined"
    TPA_REVOKED = "tpa_revoked"
    DOCUMENT_RELEASED = "document_released"
    REPORT_SHARED = "report_shared"
    ZERO_TOLERANCE_ALERT = "zero_tolerance_alert"
    MEMBERSHIP_REQUESTED = "membership_requested"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- report cycles -----------------------------------------------------------------------


class ReportCycleCreate(_In):
    cycle: CycleNumber


class ReportCyclePublic(BaseModel):
    id: str
    factory_id: str
    cycle: int
    country: str
    opened_at: datetime


class ReportCycleView(ReportCyclePublic):
    readable: bool = Field(description="Whether the caller may read this cycle's reports now.")


# --- documents ---------------------------------------------------------------------------


class FindingIn(_In):
    cluster: Annotated[str, text(100)]
    question: Annotated[str, text(500)]
    publicly_reported: bool
    compliant: bool
    detail: Note | None = None


class FindingPublic(FindingIn):
    id: str


class ReportCreate(_In):
    kind: DocumentKind
    title: Title
    body: Text | None = None
    findings: list[FindingIn] | None = Field(
        default=None, max_length=500, description="Assessment reports only."
    )


class ReportUpdate(_In):
    title: Title | None = None
    body: Text | None = None
    findings: list[FindingIn] | None = Field(default=None, max_length=500)


class ReportSummary(BaseModel):
    id: str
    factory_id: str
    cycle: int
    kind: DocumentKind
    title: str
    status: DocumentStatus
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    released_at: datetime | None


class ReportPublic(ReportSummary):
    body: str | None
    findings: list[FindingPublic] | None = Field(description="Assessment reports only.")


# --- improvement plan --------------------------------------------------------------------


class PlanItemCreate(_In):
    source: PlanItemSource = PlanItemSource.SELF_DIAGNOSIS
    title: Title
    detail: Note | None = None
    owner: Owner | None = None
    due_date: date | None = None
    status: PlanItemStatus = PlanItemStatus.OPEN


class PlanItemUpdate(_In):
    title: Title | None = None
    detail: Note | None = None
    owner: Owner | None = None
    due_date: date | None = None
    status: PlanItemStatus | None = None


class PlanItemEventPublic(BaseModel):
    action: str
    actor_org: str
    actor_role: str
    changes: dict[str, list[str | None]] = Field(description="field → [old, new]")
    at: datetime


class PlanItemPublic(BaseModel):
    id: str
    factory_id: str
    cycle: int
    source: PlanItemSource
    title: str
    detail: str | None
    owner: str | None
    due_date: date | None
    status: PlanItemStatus
    finding_id: str | None
    created_at: datetime
    updated_at: datetime
    history: list[PlanItemEventPublic]


class ImprovementPlan(BaseModel):
    factory_id: str
    cycle: int
    items: list[PlanItemPublic]


# --- third-party access, unlocks, shares -------------------------------------------------


class AccessRequestCreate(_In):
    factory_id: Id


MAX_BULK_ACCESS = 1000  # factories per bulk access request (issue 12)


class BulkAccessRequestCreate(_In):
    """Either `factory_ids` or `factory_list_id` (a scoped list of yours from
    `POST /v1/eligibility/factory-lists`: each row's matched factory)."""

    factory_ids: list[Id] | None = Field(
        default=None, min_length=1, max_length=MAX_BULK_ACCESS, description="Up to 1,000."
    )
    factory_list_id: Id | None = None


class BulkAccessRow(BaseModel):
    row: int = Field(description="The input position: index in `factory_ids`, or the list row.")
    client_ref: str | None = Field(description="The list row's `client_ref` (lists only).")
    factory_id: str | None = Field(description="Null for a list row that matched no factory.")
    outcome: BulkAccessOutcome
    access_request_id: str | None = Field(description="Your request for the factory, if any.")
    status: TpaStatus | None = Field(description="Its status after this call.")


class BulkAccessReply(BaseModel):
    items: list[BulkAccessRow]
    summary: dict[BulkAccessOutcome, int] = Field(description="Rows per outcome.")


class AccessRequestPublic(BaseModel):
    id: str
    factory_id: str
    buyer_org: str
    status: TpaStatus
    requested_at: datetime
    decided_at: datetime | None
    updated_at: datetime


class UnlockCreate(_In):
    factory_id: Id
    cycle: CycleNumber


class UnlockPublic(BaseModel):
    id: str
    factory_id: str
    cycle: int
    buyer_org: str
    charged_credits: int = Field(description="Credits spent: 1 for participants, 0 for partners.")
    footprint_year: int | None = Field(description="Partners: the footprint year it counts in.")
    created_at: datetime
    completed_at: datetime | None = Field(
        default=None,
        description="When it became active (paid for): its last change, what `updated_since` "
        "compares with.",
    )


class AuditDiscrepancy(BaseModel):
    code: str = Field(
        description="unlock_without_payment, payment_without_unlock, payment_kind_mismatch, "
        "stale_pending_unlock (reports); balance_mismatch, charge_ledger_mismatch, "
        "entry_without_charge, footprint_mismatch, charge_without_footprint (billing)."
    )
    source: Literal["reports", "billing"]
    org: str
    detail: str
    unlock_id: str | None = None
    reference: str | None = Field(None, description="Billing's payment reference.")
    year: int | None = None


class AuditPublic(BaseModel):
    checked_at: datetime
    consistent: bool = Field(description="True when there is no discrepancy.")
    unlocks_checked: int
    charges_checked: int = Field(description="Held charges in billing.")
    in_flight: int = Field(description="Held charges of unlock attempts still running.")
    discrepancies: list[AuditDiscrepancy]


class ShareCreate(_In):
    factory_id: Id
    cycle: CycleNumber
    with_org: Id


class SharePublic(BaseModel):
    id: str
    factory_id: str
    cycle: int
    with_org: str
    created_at: datetime


# --- memberships and notifications -------------------------------------------------------


class MembershipPublic(BaseModel):
    user: str
    org: str
    role: str
    status: MembershipStatus
    super_user: bool
    created_at: datetime
    approved_at: datetime | None
    approved_by: str | None


class NotificationPublic(BaseModel):
    id: str
    kind: NotificationKind
    message: str
    factory_id: str | None
    cycle: int | None
    subject_id: str | None = Field(description="The id of the request, report or alert.")
    created_at: datetime


class ZeroToleranceAlertCreate(_In):
    summary: Annotated[str, text(5000, multiline=True, strip=False)]


class ZeroToleranceAlertPublic(BaseModel):
    id: str
    factory_id: str
    summary: str
    raised_at: datetime
    notified_partners: int = Field(description="How many partner organisations were alerted.")


# --- transparency portal -----------------------------------------------------------------


class ProgressDocumentCreate(_In):
    title: Title
    note: Note | None = None
    link: Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)] = Field(
        description="Where the document or photo is published (http or https)."
    )


class ProgressDocumentPublic(BaseModel):
    id: str
    title: str
    note: str | None
    link: str
    created_at: datetime


class PublicIssue(BaseModel):
    cluster: str
    question: str
    compliant: bool


class PublicFactorySummary(BaseModel):
    factory_id: str
    name: str
    country: str
    latest_assessment_released_at: datetime
    cycle: int
    publicly_reported_issues: int
    non_compliant_issues: int


class PublicFactoryDetail(PublicFactorySummary):
    issues: list[PublicIssue] = Field(
        description="Compliance on the publicly reported issues of the latest assessment."
    )
    progress_documents: list[ProgressDocumentPublic]


# --- internal (cycles service) -----------------------------------------------------------


class InternalCycleOpen(_In):
    factory_id: Id
    cycle: CycleNumber
    country: Annotated[str, StringConstraints(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")]


class InternalCycleOpened(BaseModel):
    id: str
    factory_id: str
    cycle: int
    country: str
    opened_at: datetime


class InternalAccess(BaseModel):
    org: str
    factory_id: str
    tpa_status: TpaStatus | None
    unlocked_cycles: list[int]
    shared_cycles: list[int]


class InternalTpaHolder(BaseModel):
    org: str
    role: str  # partner or participant


class InternalTpaHolders(BaseModel):
    factory_id: str
    holders: list[InternalTpaHolder]


class InternalDocument(BaseModel):
    id: str
    kind: DocumentKind
    status: DocumentStatus
    released_at: datetime | None


class InternalDocuments(BaseModel):
    factory_id: str
    cycle: int
    documents: list[InternalDocument]


class InternalFinding(BaseModel):
    cluster: str
    question: str
    publicly_reported: bool
    compliant: bool
    detail: str | None


class InternalAssessment(BaseModel):
    factory_id: str
    cycle: int
    released: bool
    released_at: datetime | None
    findings: list[InternalFinding]


class InternalPlanItemIn(_In):
    source: PlanItemSource = PlanItemSource.SEMINAR
    title: Title
    detail: Note | None = None
    owner: Owner | None = None
    due_date: date | None = None


class InternalPlanItems(_In):
    items: list[InternalPlanItemIn] = Field(min_length=1, max_length=200)


class InternalPlanItemsCreated(BaseModel):
    items: list[PlanItemPublic]
