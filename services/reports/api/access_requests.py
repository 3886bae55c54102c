"""Third-party access (TPA): a buyer asks a factory for access to its reports; the factory
approves, declines or later revokes it. A buyer sees only its own requests, never which
other buyers asked or hold access."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import domain, events
from services.reports.api.bulk_access import request_many, tpa_requested_message
from services.reports.api.deps import (
    AnyMember,
    Buyer,
    FactoryMember,
    UnlockingBuyer,
    existing,
    problems,
)
from services.reports.clients import EligibilityDep
from services.reports.domain.access import Caller, covers_country, enforce
from services.reports.models import AccessRequest
from services.reports.schemas import (
    AccessRequestCreate,
    AccessRequestPublic,
    BulkAccessReply,
    BulkAccessRequestCreate,
    NotificationKind,
    TpaStatus,
    shapes,
)
from services.reports.store import access as store_access
from services.reports.store import members as store_members
from shared.clock import now
from shared.db import SessionDep
from shared.errors import NotFound, Unprocessable
from shared.idempotency import IdempotencyKey, idempotent
from shared.pagination import Page, PageDep, UpdatedSince
from shared.scope import scope_countries
from shared.types import Id

router = APIRouter(tags=["third-party access"])

NO_SUCH_REQUEST = "There is no such access request (or you may not see it)."
DECISION_KINDS = {
    TpaStatus.APPROVED: NotificationKind.TPA_APPROVED,
    TpaStatus.DECLINED: NotificationKind.TPA_DECLINED,
    TpaStatus.REVOKED: NotificationKind.TPA_REVOKED,
}
DECISION_TEXTS = {
    TpaStatus.APPROVED: "approved your third-party access request; you can now unlock its "
    "report cycles",
    TpaStatus.DECLINED: "declined your third-party access request",
    TpaStatus.REVOKED: "revoked your third-party access: cycles you unlocked stay readable, "
    "no new ones can be unlocked",
}


def _concerns(caller: Caller, row: AccessRequest) -> bool:
    if caller.role == "advisor":
        return True
    if caller.role == "factory":
        return row.factory_id == caller.org
    return row.buyer_org == caller.org


@router.post(
    "/access-requests",
    status_code=201,
    responses=existing(AccessRequestPublic, "Already pending or approved: unchanged."),
)
async def create_access_request(
    body: AccessRequestCreate,
    caller: Buyer,
    session: SessionDep,
    eligibility: EligibilityDep,
    response: Response,
) -> AccessRequestPublic:
    """Ask a factory for third-party access to its reports (asking again after a decline or a
    revocation makes the request pending again)."""
    factory = await eligibility.factory(body.factory_id)
    if factory is None:
        raise NotFound(f"The registry has no factory {body.factory_id!r}.")
    moment = now()
    row, created = await store_access.request_access(
        session=session,
        factory_id=body.factory_id,
        country=factory.country,
        buyer=caller.principal,
        now=moment,
    )
    reopened = None if created else domain.reopened_tpa_status(row.status)
    if reopened is not None:
        row.status, row.requested_by, row.buyer_role = reopened, caller.principal.user, caller.role
        row.requested_at = row.updated_at = moment
        row.decided_at = None
        await session.flush()
    if created or reopened is not None:
        await events.access_request_changed(session, row)
        await store_members.notify(
            session=session,
            orgs=[row.factory_id],
            kind=NotificationKind.TPA_REQUESTED,
            message=tpa_requested_message(row),
            factory_id=row.factory_id,
            subject_id=row.id,
            now=moment,
        )
    else:
        response.status_code = 200
    return shapes.access_request(row)


@router.post(
    "/access-requests/bulk",
    response_model=BulkAccessReply,
    responses=problems(409),
)
async def create_access_requests_in_bulk(
    body: BulkAccessRequestCreate,
    # The membership is read in a session of its own: the request's session starts after
    # the Idempotency-Key is claimed (shared.idempotency).
    caller: UnlockingBuyer,
    request: Request,
    session: SessionDep,
    eligibility: EligibilityDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Ask up to 1,000 factories for third-party access at once: `factory_ids`, or
    `factory_list_id` (one of your scoped factory lists: each row's matched factory). One
    row per input row, in order, with its `outcome`: `requested` (new, or a declined or
    revoked request asked again), `already_requested`, `already_approved`, `not_enrolled`
    (nothing asked) or `unknown` (not in the registry; a list row that matched no one
    factory). Needs an `Idempotency-Key`: a retry with it replays the first reply. Each
    request made is one `access_request.created` event and one notification to the
    factory, as a single request."""
    if (body.factory_ids is None) == (body.factory_list_id is None):
        raise Unprocessable("Send either `factory_ids` or `factory_list_id` (one of them).")

    async def run() -> BulkAccessReply:
        return await request_many(session, eligibility, caller, body)

    return await idempotent(
        request=request,
        session=session,
        scope=f"access-requests-bulk:{caller.org}",
        key=idempotency_key,
        payload=body.model_dump(),
        run=run,
        status_code=200,
    )


@router.get("/access-requests")
async def list_access_requests(
    caller: AnyMember,
    session: SessionDep,
    page: PageDep,
    updated_since: UpdatedSince,
    status: Annotated[TpaStatus | None, Query(description="Only requests in this state.")] = None,
    factory_id: Annotated[Id | None, Query(description="Only this factory.")] = None,
) -> Page[AccessRequestPublic]:
    """Factories: the requests they received. Buyers: their own. Advisors: those of the
    factories in their countries."""
    filters: dict[str, str | None] = {"factory_id": factory_id}
    if caller.role == "factory":
        if factory_id not in (None, caller.org):
            return Page[AccessRequestPublic](items=[])
        filters = {"factory_id": caller.org}
    elif caller.role != "advisor":
        filters["buyer_org"] = caller.org
    rows, cursor = await store_access.list_access_requests(
        session=session,
        page=page,
        status=status,
        countries=scope_countries(caller.principal),
        updated_since=updated_since,
        **filters,
    )
    return Page[AccessRequestPublic](
        items=[shapes.access_request(r) for r in rows], next_cursor=cursor
    )


@router.get("/access-requests/{request_id}")
async def get_access_request(
    request_id: Id, caller: AnyMember, session: SessionDep
) -> AccessRequestPublic:
    """One access request (to its factory, its buyer and the advisors of its country)."""
    row = await store_access.access_request(session=session, request_id=request_id)
    if row is None or not _concerns(caller, row):
        raise NotFound(NO_SUCH_REQUEST)
    enforce(covers_country(caller.principal, row.country))
    return shapes.access_request(row)


async def _decide(
    session: AsyncSession, caller: Caller, request_id: str, action: str
) -> AccessRequestPublic:
    row = await store_access.access_request(session=session, request_id=request_id, for_update=True)
    if row is None or row.factory_id != caller.org:
        raise NotFound(NO_SUCH_REQUEST)
    target = domain.tpa_transition(row.status, action)
    if row.status == target:
        return shapes.access_request(row)
    moment = now()
    row.status, row.decided_at, row.updated_at = target, moment, moment
    await session.flush()
    await events.access_request_changed(session, row)
    await store_members.notify(
        session=session,
        orgs=[row.buyer_org],
        kind=DECISION_KINDS[target],
        message=f"Factory {row.factory_id} {DECISION_TEXTS[target]}.",
        factory_id=row.factory_id,
        subject_id=row.id,
        now=moment,
    )
    return shapes.access_request(row)


@router.post("/access-requests/{request_id}/approve", responses=problems(409))
async def approve_access_request(
    request_id: Id, caller: FactoryMember, session: SessionDep
) -> AccessRequestPublic:
    """The factory grants the buyer access to its reports (pending → approved)."""
    return await _decide(session, caller, request_id, "approve")


@router.post("/access-requests/{request_id}/decline", responses=problems(409))
async def decline_access_request(
    request_id: Id, caller: FactoryMember, session: SessionDep
) -> AccessRequestPublic:
    """The factory refuses the request (pending → declined)."""
    return await _decide(session, caller, request_id, "decline")


@router.post("/access-requests/{request_id}/revoke", responses=problems(409))
async def revoke_access_request(
    request_id: Id, caller: FactoryMember, session: SessionDep
) -> AccessRequestPublic:
    """The factory withdraws access (approved → revoked); unlocked cycles stay readable."""
    return await _decide(session, caller, request_id, "revoke")
