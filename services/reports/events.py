"""The events reports records, in the transaction of the change (shared.outbox).

Who sees each one follows the rule reports applies to the rows behind it, at the moment of
the change, with the access functions its reads use:

- access requests: the factory and the buyer organisation (the two parties of a TPA, who
  both read the request), and the advisors of the factory's country;
- a released document (an assessment with its non-compliant findings counted per cluster,
  all and publicly reported: its audience may read them all): exactly the organisations
  that may read the cycle now (the factory, `can_read`; buyers that unlocked it or hold a
  share with an approved TPA, `readers_of_cycle`), and the advisors of the country;
- an unlock: the buyer organisation and the advisors of the country, not the factory (no
  endpoint tells a factory which buyers unlocked its cycles or what they paid; a buyer's
  unlocks are its own, `GET /unlocks`);
- a share: the sharer, the recipient while it may read the cycle (an approved TPA, as the
  notification of today), and the advisors of the country; the payload never names the
  sharer (a buyer never learns which other buyers hold access);
- a zero-tolerance alert: the partners with an approved TPA (who are notified of it
  today) and the advisors of the country;
- an improvement plan item created, changed (status or due date) or closed: like a
  released document, the organisations that may read the cycle now, and the advisors of
  the country (the plan is read with the cycle's reports).

No payload carries a date of the cycle's schedule: the unannounced assessment date is not
reports' to know, and its events stay free of any schedule field so it never can be.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import store
from services.reports.domain.access import ACTIVE, can_read
from services.reports.models import (
    AccessRequest,
    PlanItem,
    ReportCycle,
    ReportDocument,
    ReportShare,
    Unlock,
    ZeroToleranceAlert,
)
from services.reports.store import access as store_access
from shared.auth import Principal
from shared.events import reports as events
from shared.outbox import Pending, Subject, record, record_many

__all__ = [
    "access_request_changed",
    "access_requests_changed",
    "plan_items_changed",
    "report_released",
    "share_created",
    "unlock_created",
    "zero_tolerance_alert_raised",
]

_AccessEvent = (
    events.AccessRequestCreated
    | events.AccessRequestApproved
    | events.AccessRequestDeclined
    | events.AccessRequestRevoked
)
_ACCESS_EVENTS: dict[str, type[_AccessEvent]] = {
    "pending": events.AccessRequestCreated,
    "approved": events.AccessRequestApproved,
    "declined": events.AccessRequestDeclined,
    "revoked": events.AccessRequestRevoked,
}


def _advisors(country: str | None) -> list[str]:
    # A row without a country (made before it was kept) is for advisors of every programme
    # only, as its reads are (shared.scope.in_scope): no country key, and "*" sees all.
    return [country] if country else []


def _access_event(row: AccessRequest) -> Pending:
    payload = _ACCESS_EVENTS[row.status](
        access_request_id=row.id,
        factory_id=row.factory_id,
        buyer_org=row.buyer_org,
        status=row.status,
    )
    return Pending(
        payload,
        Subject("access_request", row.id),
        orgs=[row.factory_id, row.buyer_org],
        countries=_advisors(row.country),
    )


async def access_request_changed(session: AsyncSession, row: AccessRequest) -> None:
    """The request was created (or asked again: pending), approved, declined or revoked."""
    event = _access_event(row)
    await record(
        session,
        event.payload,
        subject=event.subject,
        orgs=event.orgs,
        countries=event.countries,
    )


async def access_requests_changed(session: AsyncSession, rows: Sequence[AccessRequest]) -> None:
    """`access_request_changed` for each of a bulk request's rows, in one INSERT."""
    await record_many(session, [_access_event(row) for row in rows])


@dataclass(frozen=True, slots=True)
class _Organisation:
    """An organisation as a whole, as `can_read` sees one of its approved members: the
    portal membership gate is a per-user rule, checked when a user reads the document,
    and does not narrow an organisation's audience."""

    org: str
    user_id: str = ""
    status: str = ACTIVE
    super_user: bool = False


def _factory_reads(cycle: ReportCycle) -> bool:
    """The factory reads its own released documents: decided by `can_read`, as its reads."""
    factory = _Organisation(cycle.factory_id)
    principal = Principal(user=factory.user_id, org=factory.org, role="factory")
    return can_read(principal, cycle, None, None, None, factory).allowed


async def _cycle_readers(session: AsyncSession, cycle: ReportCycle) -> list[str]:
    """The organisations that may read the cycle now, as its reads decide."""
    orgs = await store_access.readers_of_cycle(session=session, cycle=cycle)
    if _factory_reads(cycle):
        orgs.append(cycle.factory_id)
    return orgs


async def report_released(
    session: AsyncSession, document: ReportDocument, cycle: ReportCycle
) -> None:
    orgs = await _cycle_readers(session, cycle)
    everything: Counter[str] = Counter()
    public: Counter[str] = Counter()
    if document.kind == "assessment":
        for finding in await store.findings_of(session=session, document_id=document.id):
            if not finding.compliant:
                everything[finding.cluster] += 1
                if finding.publicly_reported:
                    public[finding.cluster] += 1
    payload = events.ReportReleased(
        report_id=document.id,
        factory_id=cycle.factory_id,
        cycle=cycle.cycle,
        kind=document.kind,
        title=document.title,
        noncompliant_by_cluster=dict(sorted(everything.items())),
        public_noncompliant_by_cluster=dict(sorted(public.items())),
    )
    await record(
        session,
        payload,
        subject=Subject("report", document.id),
        orgs=orgs,
        countries=_advisors(cycle.country),
    )


def unlock_created(unlock: Unlock, *, country: str | None) -> Pending:
    """The event of an activated unlock (`unlock` as it is once active). Built here and
    recorded by the activation itself (`store.access.activate_unlock`), which on PostgreSQL
    is one statement with its event."""
    payload = events.UnlockCreated(
        unlock_id=unlock.id,
        factory_id=unlock.factory_id,
        cycle=unlock.cycle,
        buyer_org=unlock.buyer_org,
        charged_credits=unlock.charged_credits,
        footprint_year=unlock.footprint_year,
    )
    return Pending(
        payload,
        Subject("unlock", unlock.id),
        orgs=[unlock.buyer_org],
        countries=_advisors(country),
    )


async def share_created(
    session: AsyncSession, share: ReportShare, cycle: ReportCycle, *, recipient_reads: bool
) -> None:
    """`recipient_reads`: the recipient holds an approved TPA, so it may read the cycle."""
    orgs = [share.from_org, *([share.with_org] if recipient_reads else [])]
    payload = events.ShareCreated(
        share_id=share.id, factory_id=share.factory_id, cycle=share.cycle, with_org=share.with_org
    )
    await record(
        session,
        payload,
        subject=Subject("share", share.id),
        orgs=orgs,
        countries=_advisors(cycle.country),
    )


async def zero_tolerance_alert_raised(
    session: AsyncSession, alert: ZeroToleranceAlert, *, partners: Sequence[str], country: str
) -> None:
    payload = events.ZeroToleranceAlertRaised(
        alert_id=alert.id, factory_id=alert.factory_id, issue=alert.summary
    )
    await record(
        session,
        payload,
        subject=Subject("zero_tolerance_alert", alert.id),
        orgs=partners,
        countries=_advisors(country),
    )


_PlanEvent = (
    events.ImprovementPlanItemCreated
    | events.ImprovementPlanItemUpdated
    | events.ImprovementPlanItemClosed
)
PlanAction = Literal["created", "updated"]


def _plan_event(item: PlanItem, action: PlanAction) -> type[_PlanEvent]:
    if item.status == "done":
        return events.ImprovementPlanItemClosed
    if action == "created":
        return events.ImprovementPlanItemCreated
    return events.ImprovementPlanItemUpdated


async def plan_items_changed(
    session: AsyncSession, items: Sequence[PlanItem], cycle: ReportCycle, action: PlanAction
) -> None:
    """Items of one cycle's plan created or changed (a done item: closed), one INSERT."""
    if not items:
        return
    orgs = await _cycle_readers(session, cycle)
    pending = [
        Pending(
            _plan_event(item, action)(
                item_id=item.id,
                factory_id=item.factory_id,
                cycle=item.cycle,
                status=cast(events.PlanStatus, item.status),
                due_date=item.due_date,
            ),
            Subject("improvement_plan_item", item.id),
            orgs=orgs,
            countries=_advisors(cycle.country),
        )
        for item in items
    ]
    await record_many(session, pending)
