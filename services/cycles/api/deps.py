"""What the cycles handlers share: who the caller is to a factory or a cycle (asking reports
for a buyer's TPA), with the errors a route raises when the answer is "nobody" (the rules
themselves are in `domain/visibility.py`; this module only gathers their inputs), and the
extra replies documented in OpenAPI (304, 409)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.cycles import store
from services.cycles.api.replies import released_documents
from services.cycles.clients import ReportsClient
from services.cycles.domain.visibility import Audience, audience_of
from services.cycles.models import Cycle, Visit
from shared import clock
from shared.app import problem_responses
from shared.auth import Principal, require
from shared.errors import Forbidden, NotFound
from shared.scope import ensure_in_scope

__all__ = [
    "NOT_MODIFIED",
    "AdvisorOrFactory",
    "Reader",
    "Responses",
    "audience_for_factory",
    "conflict",
    "cycle_for",
    "readable_cycle",
]


AdvisorOrFactory = Annotated[Principal, require("advisor", "factory")]
Reader = Annotated[Principal, require("advisor", "factory", "partner", "participant")]


async def _tpa_approved(principal: Principal, factory_id: str, reports: ReportsClient) -> bool:
    if not principal.is_buyer:
        return False
    access = await reports.access(org=principal.org, factory_id=factory_id)
    return access.tpa_approved


async def audience_for_factory(
    principal: Principal, *, factory_id: str, country: str | None, reports: ReportsClient
) -> Audience:
    """For routes under /factories/{factory_id}: 403 when the caller may not see it.
    `country` is None when the factory has no cycle yet (advisors then see an empty list)."""
    if principal.role == "advisor":
        if country is not None:
            ensure_in_scope(principal, country)
        return Audience.STAFF
    if principal.role == "factory" and principal.org != factory_id:
        raise Forbidden("A factory sees its own cycles only.")
    tpa = await _tpa_approved(principal, factory_id, reports)
    audience = audience_of(principal, factory_id=factory_id, country="", tpa_approved=tpa)
    if audience is None:
        raise Forbidden(
            "Buyers see a factory's cycles with an approved third-party access authorisation "
            "(TPA) from the factory: request one (POST /v1/reports/access-requests)."
        )
    return audience


async def readable_cycle(
    session: AsyncSession, principal: Principal, *, cycle_id: str, reports: ReportsClient
) -> tuple[Cycle, list[Visit], Audience, list[str]]:
    """The hot path of GET /cycles/{id}: the cycle with its visits in one query, then the
    buyer's TPA and the released documents asked of reports at the same time."""
    loaded = await store.cycle_with_visits(session=session, cycle_id=cycle_id)
    missing = NotFound(f"There is no cycle {cycle_id!r} you can see.")
    if loaded is None:
        raise missing
    cycle, visits = loaded
    ensure_in_scope(principal, cycle.country)
    if principal.role == "factory" and principal.org != cycle.factory_id:
        raise missing
    tpa, released = await asyncio.gather(
        _tpa_approved(principal, cycle.factory_id, reports),
        released_documents(reports, [cycle], visits={cycle.id: visits}, today=clock.today()),
    )
    audience = audience_of(
        principal, factory_id=cycle.factory_id, country=cycle.country, tpa_approved=tpa
    )
    if audience is None:
        raise missing
    return cycle, visits, audience, released[cycle.id]


async def cycle_for(
    session: AsyncSession,
    principal: Principal,
    *,
    cycle_id: str,
    reports: ReportsClient,
    lock: bool = False,
) -> tuple[Cycle, Audience]:
    """The cycle and the caller's audience; 404 for a cycle the caller may not know of."""
    cycle = await store.get_cycle(session=session, cycle_id=cycle_id, lock=lock)
    missing = NotFound(f"There is no cycle {cycle_id!r} you can see.")
    if cycle is None:
        raise missing
    ensure_in_scope(principal, cycle.country)
    if principal.role == "factory" and principal.org != cycle.factory_id:
        raise missing
    tpa = await _tpa_approved(principal, cycle.factory_id, reports)
    audience = audience_of(
        principal, factory_id=cycle.factory_id, country=cycle.country, tpa_approved=tpa
    )
    if audience is None:
        raise missing
    return cycle, audience


Responses = dict[int | str, dict[str, Any]]
NOT_MODIFIED: Responses = {304: {"description": "Unchanged since the ETag in If-None-Match."}}


def conflict(description: str) -> Responses:
    """A route's 409, documented as problem+json, saying what the conflict can be."""
    responses = problem_responses(409)
    responses[409] = {**responses[409], "description": description}
    return responses
