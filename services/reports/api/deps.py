"""What the routes of the reports service share: the portal-member dependency (role gate +
membership), path parameter types, keyset pages of short lists, the extra responses
documented in OpenAPI, and the first lines of most routes: finding a cycle or a document
and applying the access decision to it. What the database says about the caller's access
is also noted in the process's settled facts when it can never change again (an active
unlock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reports import store
from services.reports.domain.access import (
    Caller,
    MembershipFacts,
    can_read,
    document_visible,
    enforce,
    member_gate,
)
from services.reports.models import Membership, ReportCycle, ReportDocument
from services.reports.schemas import MAX_CYCLE, NotificationKind
from services.reports.store import Facts
from services.reports.store import members as store_members
from services.reports.store.settled import Settled
from shared.app import problem_responses
from shared.auth import ROLES, Principal, require
from shared.clock import now
from shared.db import SessionDep
from shared.errors import NotFound
from shared.pagination import Page, PageParams, SortKey, page_list

__all__ = [
    "Advisor",
    "AnyMember",
    "Buyer",
    "CycleNumber",
    "FactoryMember",
    "FactoryOrAdvisor",
    "OrgMember",
    "SearchingBuyerOrAdvisor",
    "UnlockingBuyer",
    "existing",
    "page_of",
    "problems",
    "readable_cycle",
    "visible_document",
]


T = TypeVar("T")

CycleNumber = Annotated[int, Path(ge=1, le=MAX_CYCLE, description="The cycle number (1, 2, …).")]


async def _membership(
    request: Request, principal: Principal, session: AsyncSession | None
) -> MembershipFacts:
    """The caller's membership: kept in the process once active (it stays so), else read in
    the request's session when given one. A user seen for the first time is recorded in a
    short transaction of its own, committed even when the request then fails: a pending
    user's first call is a 403, and the super-user must still learn of it."""
    settled: Settled = request.app.state.settled
    kept = settled.member(principal.org, principal.user)
    if kept is not None:
        return kept
    row = None
    if session is not None:
        row = await store_members.membership(
            session=session, org=principal.org, user=principal.user
        )
    if row is None:
        row = await _join(request, principal)
    settled.remember_member(
        org=row.org, user_id=row.user_id, status=row.status, super_user=row.super_user
    )
    return row


async def _join(request: Request, principal: Principal) -> Membership:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as own:
        row = await store_members.membership(session=own, org=principal.org, user=principal.user)
        if row is not None:
            return row
        row, pending = await store_members.join_portal(session=own, principal=principal, now=now())
        if pending:
            await store_members.notify(
                session=own,
                orgs=[principal.org],
                kind=NotificationKind.MEMBERSHIP_REQUESTED,
                message=(
                    f"{principal.user} asks to join your organisation on the portal; "
                    "the super-user approves with POST /memberships/{user}/approve."
                ),
                now=now(),
            )
        await own.commit()
        return row


def _caller(principal: Principal, membership: MembershipFacts | None) -> Caller:
    enforce(member_gate(principal, membership))
    return Caller(principal, membership)


def member(*roles: str, own_session: bool = False) -> Any:
    """Depends on the caller holding one of `roles` and, unless an advisor, an approved
    portal membership of its organisation (a pending member gets 403 everywhere).

    The membership is read in the request's session (one connection, one transaction per
    request); `own_session` reads it in a short session of its own instead, for routes that
    wait on another service and must not hold a database connection meanwhile."""
    role_gate = require(*roles)

    # Defaults rather than Annotated[…]: the annotation would name a local variable, which
    # FastAPI cannot resolve under `from __future__ import annotations`.
    async def in_request_session(
        request: Request, session: SessionDep, principal: Principal = role_gate
    ) -> Caller:
        if principal.role == "advisor":
            return _caller(principal, None)
        return _caller(principal, await _membership(request, principal, session))

    async def in_own_session(request: Request, principal: Principal = role_gate) -> Caller:
        if principal.role == "advisor":
            return _caller(principal, None)
        return _caller(principal, await _membership(request, principal, None))

    dependency: Any = in_own_session if own_session else in_request_session
    dependency.__roles__ = roles  # read into OpenAPI x-roles
    return Depends(dependency)


AnyMember = Annotated[Caller, member(*ROLES)]
Buyer = Annotated[Caller, member("partner", "participant")]
# Unlocking waits on billing: no database connection is held meanwhile.
UnlockingBuyer = Annotated[Caller, member("partner", "participant", own_session=True)]
OrgMember = Annotated[Caller, member("partner", "participant", "factory")]
# The supplier search waits on the registry: no database connection is held meanwhile.
SearchingBuyerOrAdvisor = Annotated[
    Caller, member("partner", "participant", "advisor", own_session=True)
]
FactoryOrAdvisor = Annotated[Caller, member("factory", "advisor")]
Advisor = Annotated[Caller, member("advisor")]
FactoryMember = Annotated[Caller, member("factory")]

_EXTRA_DESCRIPTIONS = {
    402: "No report credits left: buy credits (POST /v1/billing/invoices) and try again.",
}


def existing(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a create that found what it would create (returned unchanged)."""
    return {200: {"description": description, "model": model}}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem statuses a route adds to the common ones."""
    return problem_responses(*codes, descriptions=_EXTRA_DESCRIPTIONS)


def page_of(
    items: list[T], page: PageParams, *, key: SortKey, value: Callable[[T], str | int]
) -> Page[T]:
    """Keyset pagination of a short list already filtered in Python (by an access rule that
    lives in `domain/access.py` rather than in SQL), sorted by `value`, whose cursor type is
    `key`."""
    chosen, cursor = page_list(items, page, key=[key], value=lambda item: (value(item),))
    return Page[T](items=chosen, next_cursor=cursor)


NO_SUCH_REPORT = "There is no such report (or you may not see it)."


def _decide(caller: Caller, cycle: ReportCycle, facts: Facts, settled: Settled) -> None:
    enforce(
        can_read(caller.principal, cycle, facts.tpa, facts.unlock, facts.share, caller.membership)
    )
    if facts.unlock is not None:
        settled.remember_unlock(
            report_cycle_id=facts.unlock.report_cycle_id,
            buyer_org=facts.unlock.buyer_org,
            status=facts.unlock.status,
        )


async def readable_cycle(
    session: AsyncSession, caller: Caller, *, factory_id: str, cycle: int, settled: Settled
) -> ReportCycle:
    found = await store.cycle_with_facts(
        session=session, factory_id=factory_id, cycle=cycle, org=caller.org
    )
    if found is None:
        raise NotFound("There is no such report cycle (or you may not see it).")
    report_cycle, facts = found
    _decide(caller, report_cycle, facts, settled)
    return report_cycle


async def visible_document(
    session: AsyncSession,
    caller: Caller,
    *,
    document_id: str,
    settled: Settled,
    for_update: bool = False,
) -> tuple[ReportDocument, ReportCycle]:
    found = await store.document_with_facts(
        session=session, document_id=document_id, org=caller.org, for_update=for_update
    )
    if found is None:
        raise NotFound(NO_SUCH_REPORT)
    document, cycle, facts = found
    _decide(caller, cycle, facts, settled)
    if not document_visible(caller.principal, document):
        raise NotFound(NO_SUCH_REPORT)
    return document, cycle
