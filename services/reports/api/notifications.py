"""Notifications per organisation, and zero-tolerance alerts that advisors raise."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.reports import events
from services.reports.api.deps import Advisor, AnyMember
from services.reports.clients import EligibilityDep
from services.reports.domain.access import covers_country, enforce
from services.reports.schemas import (
    NotificationKind,
    NotificationPublic,
    ZeroToleranceAlertCreate,
    ZeroToleranceAlertPublic,
    shapes,
)
from services.reports.store import access as store_access
from services.reports.store import members as store_members
from services.reports.store import portal as store_portal
from shared.clock import now
from shared.db import SessionDep
from shared.errors import NotFound
from shared.pagination import Page, PageDep
from shared.types import FactoryId

router = APIRouter(tags=["notifications"])


@router.get("/notifications")
async def list_notifications(
    caller: AnyMember,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[NotificationKind | None, Query(description="Only this kind.")] = None,
) -> Page[NotificationPublic]:
    """Your organisation's notifications, oldest first (keep `next_cursor` to read on).

    Superseded by the event feed, `GET /v1/integrations/events` (and its webhooks): access
    requests, decisions, releases, shares and zero-tolerance alerts are typed events there
    (`access_request.*`, `report.released`, `share.created`, `zero_tolerance_alert.raised`),
    for every organisation entitled to them. This list keeps working for now (membership
    requests are only here); new integrations should read the feed."""
    rows, cursor = await store_members.list_notifications(
        session=session, org=caller.org, page=page, kind=kind
    )
    return Page[NotificationPublic](
        items=[shapes.notification(r) for r in rows], next_cursor=cursor
    )


@router.post("/factories/{factory_id}/zero-tolerance-alerts", status_code=201)
async def raise_zero_tolerance_alert(
    factory_id: FactoryId,
    body: ZeroToleranceAlertCreate,
    caller: Advisor,
    session: SessionDep,
    eligibility: EligibilityDep,
) -> ZeroToleranceAlertPublic:
    """Raise a zero-tolerance alert: partners with approved TPA on the factory are notified."""
    factory = await eligibility.factory(factory_id)
    if factory is None:
        raise NotFound(f"The registry has no factory {factory_id!r}.")
    enforce(covers_country(caller.principal, factory.country))
    moment = now()
    partners = await store_access.partners_with_approved_tpa(session=session, factory_id=factory_id)
    alert = await store_portal.add_alert(
        session=session,
        factory_id=factory_id,
        summary=body.summary,
        raised_by=caller.principal,
        notified_partners=len(partners),
        now=moment,
    )
    await events.zero_tolerance_alert_raised(
        session, alert, partners=partners, country=factory.country
    )
    await store_members.notify(
        session=session,
        orgs=partners,
        kind=NotificationKind.ZERO_TOLERANCE_ALERT,
        message=f"Zero-tolerance alert at {factory.name} ({factory_id}): {body.summary}"[:1000],
        factory_id=factory_id,
        subject_id=alert.id,
        now=moment,
    )
    return ZeroToleranceAlertPublic.model_validate(alert, from_attributes=True)
