"""Events of the reports service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events import EventData, event

TpaStatus = Literal["pending", "approved", "declined", "revoked"]


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
