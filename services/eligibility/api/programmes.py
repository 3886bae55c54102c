"""The country programmes and their rules in force (rule data, read-only)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.eligibility.api.deps import EngineDep, ProgrammeReader
from services.eligibility.domain.ruleset import Programme, RuleBook
from services.eligibility.schemas import ProgrammeList, ProgrammePublic
from services.eligibility.schemas.fields import IsoDate
from shared.clock import today
from shared.errors import NotFound

router = APIRouter(tags=["programmes"])

AsOf = Annotated[
    IsoDate | None,
    Query(description="The date whose rules are shown (YYYY-MM-DD); default today (UTC)."),
]
CountryPath = Annotated[
    str, Path(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code.", examples=["BD"])
]


@lru_cache(maxsize=256)
def _public(rule_book: RuleBook, country: str, effective_from: date) -> ProgrammePublic:
    programme = rule_book.in_force(country, effective_from)
    assert programme is not None and programme.effective_from == effective_from
    return ProgrammePublic(
        **programme.model_dump(),
        effective_until=rule_book.effective_until(programme),
        requires_nomination=programme.asks_for_nomination,
    )


def shown_programme(rule_book: RuleBook, programme: Programme) -> ProgrammePublic:
    return _public(rule_book, programme.country, programme.effective_from)


@router.get("/programmes", response_model=ProgrammeList)
async def list_programmes(
    principal: ProgrammeReader, engine: EngineDep, as_of: AsOf = None
) -> ProgrammeList:
    """The country programmes with their rules in force.

    One entry per programme country (13): products covered, geography, requirements with
    their thresholds, participation, notes, and training participant-days per cycle.
    """
    day = as_of or today()
    engine.require_rules_on(day)
    rule_book = engine.rule_book
    return ProgrammeList(
        as_of=day, items=[shown_programme(rule_book, p) for p in rule_book.all_in_force(day)]
    )


@router.get("/programmes/{country}", response_model=ProgrammePublic)
async def get_programme(
    principal: ProgrammeReader, engine: EngineDep, country: CountryPath, as_of: AsOf = None
) -> ProgrammePublic:
    """One country programme with its rules in force."""
    programme = engine.programme(country.upper(), as_of or today())
    if programme is None:
        raise NotFound(
            f"Better Work has no programme in {country.upper()}; programmes: "
            f"{', '.join(engine.rule_book.countries)}."
        )
    return shown_programme(engine.rule_book, programme)
