"""Calls from the other services (services/INTERNAL_API.md), with service tokens only: the
gateway never routes `/internal`."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from services.eligibility.api.deps import EngineDep
from services.eligibility.api.programmes import CountryPath, shown_programme
from services.eligibility.schemas import (
    MAX_INTERNAL_LOOKUP,
    FactoryInternal,
    FactoryPublic,
    InternalFactories,
    InternalFactoryBrief,
    InternalFactoryLookup,
    InternalListRow,
    InternalListRows,
    ProgrammePublic,
)
from services.eligibility.store import factories_by_id, get_factory
from services.eligibility.store.lists import get_list, read_rows
from shared.app import problem_responses
from shared.auth import ServiceCaller
from shared.clock import today
from shared.db import SessionDep
from shared.errors import Conflict, NotFound
from shared.types import FactoryId, Id

router = APIRouter(prefix="/internal", tags=["internal"])


@router.get("/factories/{factory_id}", response_model=FactoryInternal)
async def get_internal_factory(
    caller: ServiceCaller, session: SessionDep, engine: EngineDep, factory_id: FactoryId
) -> FactoryInternal:
    """A registry factory as it is now, for reports and cycles."""
    factory = await get_factory(session=session, factory_id=factory_id)
    programme = engine.rule_book.in_force(factory.country, today())
    public = FactoryPublic.model_validate(factory, from_attributes=True)
    return FactoryInternal(
        **public.model_dump(),
        training_participant_days=programme.training_participant_days if programme else None,
    )


@router.get("/programmes/{country}", response_model=ProgrammePublic)
async def get_internal_programme(
    caller: ServiceCaller, engine: EngineDep, country: CountryPath
) -> ProgrammePublic:
    """A country programme's rules in force today (training participant-days for cycles)."""
    programme = engine.rule_book.in_force(country.upper(), today())
    if programme is None:
        raise NotFound(f"Better Work has no programme in {country.upper()}.")
    return shown_programme(engine.rule_book, programme)


@router.post("/factories/lookup")
async def look_up_factories_internal(
    body: InternalFactoryLookup, caller: ServiceCaller, session: SessionDep
) -> InternalFactories:
    """Many registry factories at once (reports' bulk access requests): one query, not one
    call per factory. A read: POST only because the ids do not fit a URL."""
    found = await factories_by_id(session=session, ids=body.ids)
    return InternalFactories(
        factories=[
            InternalFactoryBrief.model_validate(found[i], from_attributes=True)
            for i in sorted(found)
        ]
    )


@router.get("/factory-lists/{list_id}/rows", responses=problem_responses(409))
async def list_rows_internal(
    list_id: Id,
    caller: ServiceCaller,
    session: SessionDep,
    org: Annotated[Id, Query(description="The organisation asking: the list's owner.")],
    limit: Annotated[int, Query(ge=1, le=MAX_INTERNAL_LOOKUP + 1)] = MAX_INTERNAL_LOOKUP,
) -> InternalListRows:
    """A scoped factory list's rows with the registry factory each matched, for its owner
    (reports' bulk access requests). 404 for another organisation's list; 409 while it is
    still being scoped."""
    factory_list = await get_list(session=session, list_id=list_id)
    if factory_list.owner_org != org:
        raise NotFound(f"There is no factory list {list_id!r}.")
    if factory_list.status != "done":
        raise Conflict(
            f"Factory list {list_id!r} is {factory_list.status}: request access once it is done."
        )
    rows = []
    lines = await read_rows(session=session, list_id=list_id, start=0, limit=limit)
    for index, line in enumerate(lines):
        result = json.loads(line)
        match = result.get("match") or {}
        rows.append(
            InternalListRow(
                row=result.get("row") if result.get("row") is not None else index,
                client_ref=result.get("client_ref"),
                factory_id=match.get("factory_id") if match.get("status") == "matched" else None,
            )
        )
    return InternalListRows(
        list_id=list_id, owner_org=org, row_count=factory_list.row_count, rows=rows
    )
