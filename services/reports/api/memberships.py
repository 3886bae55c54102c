"""Portal memberships: the super-user (an organisation's first user) sees its members and
approves the pending ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.reports.api.deps import OrgMember
from services.reports.domain.access import can_manage_members, enforce
from services.reports.schemas import MembershipPublic, MembershipStatus, shapes
from services.reports.store import members as store_members
from shared.clock import now
from shared.db import SessionDep
from shared.errors import NotFound
from shared.pagination import Page, PageDep
from shared.types import Id

router = APIRouter(tags=["memberships"])

UserId = Annotated[Id, Path(description="The user's id (the `sub` of their token).")]


@router.get("/memberships")
async def list_memberships(
    caller: OrgMember, session: SessionDep, page: PageDep
) -> Page[MembershipPublic]:
    """Your organisation's portal members, pending ones included (super-user only)."""
    enforce(can_manage_members(caller.principal, caller.membership))
    rows, cursor = await store_members.list_memberships(session=session, org=caller.org, page=page)
    return Page[MembershipPublic](items=[shapes.membership(r) for r in rows], next_cursor=cursor)


@router.post("/memberships/{user}/approve")
async def approve_membership(
    user: UserId, caller: OrgMember, session: SessionDep
) -> MembershipPublic:
    """Approve a pending member of your organisation (approving again is a no-op)."""
    enforce(can_manage_members(caller.principal, caller.membership))
    row = await store_members.membership(session=session, org=caller.org, user=user)
    if row is None:
        raise NotFound(f"{user!r} has not asked to join {caller.org!r} on the portal.")
    if row.status != MembershipStatus.ACTIVE:
        row.status = MembershipStatus.ACTIVE
        row.approved_at, row.approved_by = now(), caller.principal.user
        await session.flush()
    return shapes.membership(row)
