"""Rows to replies: the one place that decides which columns leave the service."""

from __future__ import annotations

import json
from collections.abc import Iterable

from services.reports.models import (
    AccessRequest,
    AssessmentFinding,
    Membership,
    Notification,
    PlanItem,
    PlanItemEvent,
    ProgressDocument,
    ReportCycle,
    ReportDocument,
    ReportShare,
    Unlock,
)
from services.reports.schemas import (
    AccessRequestPublic,
    FindingPublic,
    MembershipPublic,
    NotificationPublic,
    PlanItemEventPublic,
    PlanItemPublic,
    ProgressDocumentPublic,
    ReportCyclePublic,
    ReportPublic,
    ReportSummary,
    SharePublic,
    UnlockPublic,
)

__all__ = [
    "access_request",
    "cycle",
    "membership",
    "notification",
    "plan_item",
    "progress_document",
    "report",
    "report_summary",
    "share",
    "unlock",
]


def cycle(row: ReportCycle) -> ReportCyclePublic:
    return ReportCyclePublic.model_validate(row, from_attributes=True)


def report_summary(row: ReportDocument) -> ReportSummary:
    return ReportSummary.model_validate(row, from_attributes=True)


def report(row: ReportDocument, findings: Iterable[AssessmentFinding] | None) -> ReportPublic:
    summary = ReportSummary.model_validate(row, from_attributes=True)
    return ReportPublic(
        **summary.model_dump(),
        body=row.body,
        findings=None
        if findings is None
        else [FindingPublic.model_validate(f, from_attributes=True) for f in findings],
    )


def plan_item(row: PlanItem, events: Iterable[PlanItemEvent]) -> PlanItemPublic:
    history = [
        PlanItemEventPublic(
            action=event.action,
            actor_org=event.actor_org,
            actor_role=event.actor_role,
            changes=json.loads(event.changes),
            at=event.at,
        )
        for event in events
    ]
    return PlanItemPublic(
        id=row.id,
        factory_id=row.factory_id,
        cycle=row.cycle,
        source=row.source,
        title=row.title,
        detail=row.detail,
        owner=row.owner,
        due_date=row.due_date,
        status=row.status,
        finding_id=row.finding_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        history=history,
    )


def access_request(row: AccessRequest) -> AccessRequestPublic:
    return AccessRequestPublic.model_validate(row, from_attributes=True)


def unlock(row: Unlock) -> UnlockPublic:
    return UnlockPublic.model_validate(row, from_attributes=True)


def share(row: ReportShare) -> SharePublic:
    return SharePublic.model_validate(row, from_attributes=True)


def membership(row: Membership) -> MembershipPublic:
    return MembershipPublic(
        user=row.user_id,
        org=row.org,
        role=row.role,
        status=row.status,
        super_user=row.super_user,
        created_at=row.created_at,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
    )


def notification(row: Notification) -> NotificationPublic:
    return NotificationPublic.model_validate(row, from_attributes=True)


def progress_document(row: ProgressDocument) -> ProgressDocumentPublic:
    return ProgressDocumentPublic.model_validate(row, from_attributes=True)
