"""Events of the reports service."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.events import EventData, event

TpaStatus = Literal["pending", "approved", "declined", "revoked"]
PlanStatus = Literal["open", "in_progress", "done"]


class _AccessRequest(EventData):
    access_request_id: str
    factory_id: str
    buyer_org: str
    status: TpaStatus


@event("access_request.created", "reports", "A buyer asked a factory for third-party access.")
class AccessRequestCreated(_AccessRequest):
    pass


@event("access_request.approved", "reports", "The factory approved third-party access.")
class AccessRequestApproved(_AccessRequest):
    pass


@event("access_request.declined", "reports", "The factory declined third-party access.")
class AccessRequestDeclined(_AccessRequest):
    pass


@event("access_request.revoked", "reports", "The factory revoked third-party access.")
class AccessRequestRevoked(_AccessRequest):
    pass


@event("report.released", "reports", "A report document was released to its readers.")
class ReportReleased(EventData):
    report_id: str
    factory_id: str
    cycle: int
    kind: Literal["assessment", "progress_report_1", "progress_report_2", "advisory_log"]
    title: str
    # Assessments only (empty otherwise): the non-compliant findings per cluster, all of
    # them (for the report's readers, who are this event's audience) and the publicly
    # reported ones (what anyone may know). The brand portfolio counts them.
    noncompliant_by_cluster: dict[str, int] = Field(default_factory=dict)
    public_noncompliant_by_cluster: dict[str, int] = Field(default_factory=dict)


@event("unlock.created", "reports", "A report cycle was unlocked by the organisation.")
class UnlockCreated(EventData):
    unlock_id: str
    factory_id: str
    cycle: int
    buyer_org: str
    charged_credits: int
    footprint_year: int | None = None


@event("share.created", "reports", "An unlocked report cycle was shared with an organisation.")
class ShareCreated(EventData):
    share_id: str
    factory_id: str
    cycle: int
    with_org: str


@event("zero_tolerance_alert.raised", "reports", "Better Work raised a zero-tolerance alert.")
class ZeroToleranceAlertRaised(EventData):
    alert_id: str
    factory_id: str
    issue: str


class _PlanItem(EventData):
    item_id: str
    factory_id: str
    cycle: int
    status: PlanStatus
    due_date: date | None = Field(
        description="When the item is due (the plan's own date, never the cycle's schedule)."
    )


@event(
    "improvement_plan_item.created",
    "reports",
    "An item was added to a cycle's live improvement plan.",
)
class ImprovementPlanItemCreated(_PlanItem):
    pass


@event(
    "improvement_plan_item.updated",
    "reports",
    "An improvement plan item's status or due date changed (and it is not done).",
)
class ImprovementPlanItemUpdated(_PlanItem):
    pass


@event("improvement_plan_item.closed", "reports", "An improvement plan item was marked done.")
class ImprovementPlanItemClosed(_PlanItem):
    pass
