"""Sharing an unlocked report cycle, free of charge, with another organisation in the
factory's direct supply chain (it must hold an approved TPA for the factory to read it)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.reports import events, store
from services.reports.api.deps import Buyer, existing, problems
from services.reports.domain.access import can_share, enforce
from services.reports.schemas import NotificationKind, ShareCreate, SharePublic, shapes
from services.reports.store import access as store_access
from services.reports.store import members as store_members
from shared.clock import now
from shared.db import SessionDep
from shared.errors import NotFound, Unprocessable
from shared.pagination import Page, PageDep

router = APIRouter(tags=["shares"])


@router.post(
    "/shares",
    status_code=201,
    responses=existing(SharePublic, "Shared already: the same share.") | problems(409),
)
async def create_share(
    body: ShareCreate, caller: Buyer, session: SessionDep, response: Response
) -> SharePublic:
    """Share a cycle you unlocked with an organisation of the same direct supply chain. It
    can read the cycle while it holds the factory's approved TPA; whether it does is never
    disclosed to you (a buyer never learns which other buyers have access)."""
    if body.with_org == caller.org:
        raise Unprocessable("Share with another organisation: yours has the cycle unlocked.")
    found = await store.cycle_with_facts(
        session=session, factory_id=body.factory_id, cycle=body.cycle, org=caller.org
    )
    if found is None:
        raise NotFound("There is no such report cycle (or you may not see it).")
    cycle, facts = found
    enforce(can_share(caller.principal, cycle, facts.tpa, facts.unlock, caller.membership))
    assert facts.unlock is not None
    moment = now()
    share, created = await store_access.add_share(
        session=session,
        cycle=cycle,
        unlock_id=facts.unlock.id,
        sharer=caller.principal,
        with_org=body.with_org,
        now=moment,
    )
    if not created:
        response.status_code = 200
        return shapes.share(share)
    recipient_tpa = await store_access.get_tpa(
        session=session, factory_id=cycle.factory_id, org=body.with_org
    )
    recipient_reads = recipient_tpa is not None and recipient_tpa.status == "approved"
    await events.share_created(session, share, cycle, recipient_reads=recipient_reads)
    if recipient_reads:
        await store_members.notify(
            session=session,
            orgs=[body.with_org],
            kind=NotificationKind.REPORT_SHARED,
            message=f"A buyer in the supply chain of factory {cycle.factory_id} shared its "
            f"report cycle {cycle.cycle} with you.",
            factory_id=cycle.factory_id,
            cycle=cycle.cycle,
            subject_id=share.id,
            now=moment,
        )
    return shapes.share(share)


@router.get("/shares")
async def list_shares(caller: Buyer, session: SessionDep, page: PageDep) -> Page[SharePublic]:
    """The shares your organisation made."""
    rows, cursor = await store_access.list_shares(session=session, from_org=caller.org, page=page)
    return Page[SharePublic](items=[shapes.share(r) for r in rows], next_cursor=cursor)
