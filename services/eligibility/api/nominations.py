"""Nominations (SPEC §3): a partner brand records that it nominates a registry factory for
the factory's programme (Bangladesh, Cambodia, Pakistan, Vietnam ask for one), lists its
nominations and withdraws them. Decisions without `nominated_by_partner` read these."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.eligibility.api.deps import EngineDep, NominatingPartner
from services.eligibility.domain.access import ensure_sees_nomination
from services.eligibility.domain.nominations import (
    ensure_programme_asks_for_nomination,
    nominating_countries,
)
from services.eligibility.models import Nomination
from services.eligibility.schemas import (
    NominationCreate,
    NominationPage,
    NominationPublic,
    NominationStatus,
)
from services.eligibility.schemas.fields import CountryCode
from services.eligibility.store import get_factory
from services.eligibility.store.nominations import (
    get_nomination,
    list_nominations,
    nominate,
    withdraw,
)
from shared.app import problem_responses
from shared.auth import PartnerOrAdvisor
from shared.clock import today
from shared.db import SessionDep
from shared.pagination import PageDep, UpdatedSince
from shared.scope import scope_countries
from shared.types import Id

router = APIRouter(tags=["nominations"])


def _public(nomination: Nomination) -> NominationPublic:
    return NominationPublic.model_validate(nomination, from_attributes=True)


@router.post(
    "/nominations",
    status_code=201,
    response_model=NominationPublic,
    responses={
        200: {"model": NominationPublic, "description": "Already nominated: that nomination."},
        **problem_responses(404),
    },
)
async def create_nomination(
    principal: NominatingPartner,
    session: SessionDep,
    engine: EngineDep,
    body: NominationCreate,
    response: Response,
) -> NominationPublic:
    """Nominate a registry factory for its programme (partner brands only).

    Only programmes whose rules have a `nomination` requirement take one (BD, KH, PK, VN;
    `requires_nomination` in GET /programmes); another is a 422. Nominating a factory you
    already nominate returns that nomination (200). Decisions on this factory that do not
    send `nominated_by_partner` then count it and name it in their reason.
    """
    factory = await get_factory(session=session, factory_id=body.factory_id)
    day = today()
    ensure_programme_asks_for_nomination(
        engine.programme(factory.country, day),
        country=factory.country,
        asking=nominating_countries(engine.rule_book, day),
    )
    nomination, created = await nominate(
        session=session, factory=factory, partner_org=principal.org, user=principal.user
    )
    if not created:
        response.status_code = 200
    return _public(nomination)


@router.get("/nominations", response_model=NominationPage)
async def list_nomination_records(
    principal: PartnerOrAdvisor,
    session: SessionDep,
    page: PageDep,
    updated_since: UpdatedSince,
    factory_id: Annotated[Id | None, Query(description="Only this factory's.")] = None,
    country: Annotated[CountryCode | None, Query(description="Only this country.")] = None,
    status: Annotated[NominationStatus | None, Query()] = None,
) -> NominationPage:
    """Nominations, oldest first: a partner's own; an advisor's, its programmes'."""
    rows, next_cursor = await list_nominations(
        session=session,
        page=page,
        partner_org=principal.org if principal.role == "partner" else None,
        countries=scope_countries(principal),
        factory_id=factory_id,
        country=country,
        status=status,
        updated_since=updated_since,
    )
    return NominationPage(items=[_public(r) for r in rows], next_cursor=next_cursor)


@router.get("/nominations/{nomination_id}", response_model=NominationPublic)
async def get_nomination_record(
    principal: PartnerOrAdvisor, session: SessionDep, nomination_id: Id
) -> NominationPublic:
    """One nomination (the nominating partner, or an advisor of its programme)."""
    nomination = await get_nomination(session=session, nomination_id=nomination_id)
    ensure_sees_nomination(principal, nomination)
    return _public(nomination)


@router.post("/nominations/{nomination_id}/withdraw", response_model=NominationPublic)
async def withdraw_nomination(
    principal: NominatingPartner, session: SessionDep, nomination_id: Id
) -> NominationPublic:
    """Withdraw your nomination; it stays on record as `withdrawn` (again: no change).

    Decisions made from then on no longer count it.
    """
    nomination = await get_nomination(session=session, nomination_id=nomination_id, for_update=True)
    ensure_sees_nomination(principal, nomination)  # a partner sees only its own
    nomination = await withdraw(session=session, nomination=nomination, user=principal.user)
    return _public(nomination)
