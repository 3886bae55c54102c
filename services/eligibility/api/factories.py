"""The factory registry: advisors maintain it, a factory user reads its own entry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.eligibility.api.deps import RegistryReader
from services.eligibility.domain import enrolment_changes
from services.eligibility.domain.access import ensure_sees_factory
from services.eligibility.schemas import (
    EnrolmentChange,
    EnrolmentStatus,
    FactoryCreate,
    FactoryLookupPage,
    FactoryLookupPublic,
    FactoryPage,
    FactoryPublic,
    FactoryUpdate,
)
from services.eligibility.schemas.fields import CountryCode
from services.eligibility.store import (
    create_factory,
    get_factory,
    list_factories,
    list_lookups,
    update_factory,
)
from shared.app import problem_responses
from shared.auth import Advisor
from shared.db import SessionDep
from shared.pagination import PageDep, UpdatedSince
from shared.scope import ensure_in_scope, scope_countries
from shared.types import FactoryId

router = APIRouter(tags=["factories"])


@router.post(
    "/factories", status_code=201, response_model=FactoryPublic, responses=problem_responses(409)
)
async def create_factory_entry(
    principal: Advisor, session: SessionDep, body: FactoryCreate
) -> FactoryPublic:
    """Add a factory to the registry (status `registered`).

    A name is unique within a country (compared without case, punctuation and legal form)
    and an OS ID is unique: a second entry for the same factory is a 409 naming the first.
    """
    ensure_in_scope(principal, body.country)
    factory = await create_factory(
        session=session, values=body.model_dump(), created_by=principal.user
    )
    return FactoryPublic.model_validate(factory, from_attributes=True)


@router.get("/factories", response_model=FactoryPage)
async def list_factory_entries(
    principal: RegistryReader,
    session: SessionDep,
    page: PageDep,
    updated_since: UpdatedSince,
    country: Annotated[CountryCode | None, Query(description="Only this country.")] = None,
    enrolment_status: Annotated[EnrolmentStatus | None, Query()] = None,
) -> FactoryPage:
    """The registry, a page at a time: an advisor's countries, or a factory's own entry."""
    if principal.role == "factory":
        countries, only_id = None, principal.org
    else:
        countries, only_id = scope_countries(principal), None
    rows, next_cursor = await list_factories(
        session=session,
        page=page,
        countries=countries,
        only_id=only_id,
        country=country,
        enrolment_status=enrolment_status,
        updated_since=updated_since,
    )
    items = [FactoryPublic.model_validate(row, from_attributes=True) for row in rows]
    return FactoryPage(items=items, next_cursor=next_cursor)


@router.get("/factories/{factory_id}", response_model=FactoryPublic)
async def get_factory_entry(
    principal: RegistryReader, session: SessionDep, factory_id: FactoryId
) -> FactoryPublic:
    """One registry factory (a factory user: its own entry only)."""
    factory = await get_factory(session=session, factory_id=factory_id)
    ensure_sees_factory(principal, factory)
    return FactoryPublic.model_validate(factory, from_attributes=True)


@router.patch(
    "/factories/{factory_id}", response_model=FactoryPublic, responses=problem_responses(409)
)
async def update_factory_entry(
    principal: Advisor, session: SessionDep, factory_id: FactoryId, body: FactoryUpdate
) -> FactoryPublic:
    """Change a registry factory's facts (fields left out stay as they are)."""
    factory = await get_factory(session=session, factory_id=factory_id, for_update=True)
    ensure_sees_factory(principal, factory)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name", "") is None:
        changes.pop("name")  # a factory keeps a name
    factory = await update_factory(session=session, factory=factory, changes=changes)
    return FactoryPublic.model_validate(factory, from_attributes=True)


@router.post(
    "/factories/{factory_id}/enrolment",
    response_model=FactoryPublic,
    responses=problem_responses(409),
)
async def change_enrolment(
    principal: Advisor, session: SessionDep, factory_id: FactoryId, body: EnrolmentChange
) -> FactoryPublic:
    """Mark a factory enrolled (registered and paid) or withdrawn.

    Marking the current status again changes nothing; only an enrolled factory can be
    withdrawn (409 otherwise). Other services see the change at once through
    `/internal/factories/{id}`, and list checks report the factory as `enrolled`.
    """
    factory = await get_factory(session=session, factory_id=factory_id, for_update=True)
    ensure_sees_factory(principal, factory)
    if enrolment_changes(factory.enrolment_status, body.status):
        now = datetime.now(UTC)
        changes: dict[str, object] = {"enrolment_status": body.status}
        changes["enrolled_at" if body.status == "enrolled" else "withdrawn_at"] = now
        factory = await update_factory(session=session, factory=factory, changes=changes)
    return FactoryPublic.model_validate(factory, from_attributes=True)


@router.get("/factories/{factory_id}/lookups", response_model=FactoryLookupPage)
async def list_factory_lookups(
    principal: Advisor, session: SessionDep, factory_id: FactoryId, page: PageDep
) -> FactoryLookupPage:
    """Who looked this factory up: each check, bulk check or factory list that matched it."""
    factory = await get_factory(session=session, factory_id=factory_id)
    ensure_sees_factory(principal, factory)
    rows, next_cursor = await list_lookups(session=session, factory_id=factory_id, page=page)
    items = [
        FactoryLookupPublic(
            id=row.id,
            factory_id=row.factory_id,
            org=row.org,
            user=row.user_id,
            role=row.role,
            source=row.source,
            reference=row.reference,
            looked_up_at=row.looked_up_at,
        )
        for row in rows
    ]
    return FactoryLookupPage(items=items, next_cursor=next_cursor)
