"""What the routes of the reports service share: the portal-member dependency (role gate +
membership), path parameter types, keyset pages of short lists, and the extra responses
documented in OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reports import store_members
from services.reports.access import Caller, MembershipFacts, enforce, member_gate
from services.reports.clock import now
from services.reports.models import Membership
from services.reports.schemas import MAX_CYCLE, NO_CONTROL, NotificationKind
from services.reports.settled import Settled
from shared.app import problem_responses
from shared.auth import ROLES, Principal, require
from shared.db import SessionDep
from shared.errors import Unprocessable
from shared.pagination import Page, PageParams, decode_cursor, encode_cursor

__all__ = [
    "Advisor",
    "AnyMember",
    "Buyer",
    "CycleNumber",
    "FactoryId",
    "FactoryMember",
    "FactoryOrAdvisor",
    "ObjectId",
    "OrgMember",
    "UnlockingBuyer",
    "UpdatedSince",
    "existing",
    "page_of",
    "problems",
]

T = TypeVar("T")

FactoryId = Annotated[
    str,
    Path(
        min_length=1, max_length=128, pattern=NO_CONTROL, description="The registry's factory id."
    ),
]
CycleNumber = Annotated[int, Path(ge=1, le=MAX_CYCLE, description="The cycle number (1, 2, …).")]
ObjectId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


# RFC 3339 `date-time`: a full date and time with its offset (a bare number or a local time
# is refused: pydantic's own datetime would take "0.5" as a Unix timestamp).
RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"


def _updated_since(
    updated_since: Annotated[
        str | None,
        Query(
            pattern=RFC3339,
            max_length=40,
            json_schema_extra={"format": "date-time"},
            description="RFC 3339 date-time with its offset (e.g. 2026-11-29T06:00:00Z): only "
            "rows changed at or after it, for a first full sync before the event feed "
            "(`/v1/integrations/events`) takes over.",
        ),
    ] = None,
) -> datetime | None:
    if updated_since is None:
        return None
    try:
        moment = datetime.fromisoformat(updated_since.upper())
        # Stored moments are UTC; an offset at the edge of the calendar cannot be one.
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise Unprocessable(
            f"updated_since {updated_since!r} is not a valid RFC 3339 date-time in range."
        ) from exc


UpdatedSince = Annotated[datetime | None, Depends(_updated_since)]


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
        row = await store_members.membership(session, org=principal.org, user=principal.user)
    if row is None:
        row = await _join(request, principal)
    settled.remember_member(
        org=row.org, user_id=row.user_id, status=row.status, super_user=row.super_user
    )
    return row


async def _join(request: Request, principal: Principal) -> Membership:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as own:
        row = await store_members.membership(own, org=principal.org, user=principal.user)
        if row is not None:
            return row
        row, pending = await store_members.join_portal(own, principal=principal, now=now())
        if pending:
            await store_members.notify(
                own,
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


def page_of(items: list[T], page: PageParams, *, key: Callable[[T], str]) -> Page[T]:
    """Keyset pagination of a short list already filtered in Python (by an access rule that
    lives in `access.py` rather than in SQL)."""
    ordered = sorted(items, key=key)
    if page.cursor is not None:
        after = decode_cursor(page.cursor)
        if len(after) != 1 or not isinstance(after[0], str):
            raise Unprocessable("The cursor does not belong to this list.")
        ordered = [item for item in ordered if key(item) > after[0]]
    chosen = ordered[: page.limit]
    more = len(ordered) > page.limit
    return Page[T](items=chosen, next_cursor=encode_cursor([key(chosen[-1])]) if more else None)
