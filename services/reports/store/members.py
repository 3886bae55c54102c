"""Database queries of portal memberships and of the notifications per organisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.reports.models import Membership, Notification, PortalOrganisation
from services.reports.schemas import MembershipStatus, NotificationKind
from services.reports.store import Listing, insert_ignoring_conflict
from shared.auth import Principal
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "join_portal",
    "list_memberships",
    "list_notifications",
    "membership",
    "notify",
    "notify_each",
]


# --- memberships -------------------------------------------------------------------------


async def membership(*, session: AsyncSession, org: str, user: str) -> Membership | None:
    return await session.get(Membership, (org, user), populate_existing=True)


async def join_portal(
    *, session: AsyncSession, principal: Principal, now: datetime
) -> tuple[Membership, bool]:
    """The user's membership, created on first sight: the organisation's first user is its
    super-user (active); later users are pending. (row, True when a pending one was made)."""
    await insert_ignoring_conflict(
        session=session,
        model=PortalOrganisation,
        values={"org": principal.org, "super_user": principal.user, "created_at": now},
        on=["org"],
    )
    organisation = await session.get(PortalOrganisation, principal.org, populate_existing=True)
    assert organisation is not None
    first = organisation.super_user == principal.user
    created = await insert_ignoring_conflict(
        session=session,
        model=Membership,
        values={
            "org": principal.org,
            "user_id": principal.user,
            "role": principal.role,
            "status": MembershipStatus.ACTIVE if first else MembershipStatus.PENDING,
            "super_user": first,
            "created_at": now,
            "approved_at": now if first else None,
            "approved_by": principal.user if first else None,
        },
        on=["org", "user_id"],
    )
    row = await membership(session=session, org=principal.org, user=principal.user)
    assert row is not None
    return row, created and not first


async def list_memberships(*, session: AsyncSession, org: str, page: PageParams) -> Listing:
    statement = select(Membership).where(col(Membership.org) == org)
    return await paginate(session, statement, page, key=[sort_key(Membership.user_id, str)])


# --- notifications -----------------------------------------------------------------------


async def notify(
    *,
    session: AsyncSession,
    orgs: Iterable[str],
    kind: NotificationKind,
    message: str,
    now: datetime,
    factory_id: str | None = None,
    cycle: int | None = None,
    subject_id: str | None = None,
) -> int:
    rows = [
        Notification(
            id=new_id("ntf"),
            org=org,
            kind=kind,
            message=message,
            factory_id=factory_id,
            cycle=cycle,
            subject_id=subject_id,
            created_at=now,
        )
        for org in sorted(set(orgs))
    ]
    session.add_all(rows)
    await session.flush()
    return len(rows)


async def notify_each(
    *,
    session: AsyncSession,
    kind: NotificationKind,
    now: datetime,
    notes: Iterable[tuple[str, str, str | None, str | None]],
) -> int:
    """One notification per (org, message, factory_id, subject_id), in one flush (a bulk
    request's many factories)."""
    rows = [
        Notification(
            id=new_id("ntf"),
            org=org,
            kind=kind,
            message=message,
            factory_id=factory_id,
            subject_id=subject_id,
            created_at=now,
        )
        for org, message, factory_id, subject_id in notes
    ]
    if rows:
        session.add_all(rows)
        await session.flush()
    return len(rows)


async def list_notifications(
    *, session: AsyncSession, org: str, page: PageParams, kind: str | None = None
) -> Listing:
    statement = select(Notification).where(col(Notification.org) == org)
    if kind is not None:
        statement = statement.where(col(Notification.kind) == kind)
    return await paginate(session, statement, page, key=[sort_key(Notification.id, str)])
