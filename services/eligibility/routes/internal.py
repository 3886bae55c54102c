"""Calls from the other services (services/INTERNAL_API.md), with service tokens only: the
gateway never routes `/internal`."""

from __future__ import annotations

from fastapi import APIRouter

from services.eligibility.deps import EngineDep
from services.eligibility.routes.programmes import CountryPath, shown_programme
from services.eligibility.schemas import FactoryInternal, FactoryPublic, ProgrammePublic
from services.eligibility.store import get_factory
from shared.auth import ServiceCaller
from shared.clock import today
from shared.db import SessionDep
from shared.errors import NotFound
from shared.types import FactoryId

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
