"""The advisor country scope: the one rule by which every service decides which factories'
data an advisor may read or act on.

An advisor acts for the Better Work programmes of the countries in its token's `countries`
claim: `["*"]` is every programme, no claim (or an empty one) is none. The rule limits
advisors only; what the other roles see of a factory is decided by ownership and third-party
access, in each service's access module.

Services apply it in three forms, all from here: `in_scope` on a row in hand,
`ensure_in_scope` (a 403 naming the country: advisors are Better Work staff and know that
every programme's factories exist) for one object, and `scope_countries` + `country_clause`
inside a list's query, so a page is cut after the rows out of scope are gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from shared.auth import ALL_COUNTRIES, Principal
from shared.errors import Forbidden

__all__ = [
    "country_clause",
    "ensure_in_scope",
    "in_scope",
    "out_of_scope",
    "scope_countries",
]

ADVISOR = "advisor"


def in_scope(principal: Principal, country: str | None) -> bool:
    """May `principal` see data of a factory in `country`? (None: a country not known, which
    only an advisor of every programme may see.)"""
    if principal.role != ADVISOR:
        return True
    if country is None:
        return ALL_COUNTRIES in principal.countries
    return principal.covers_country(country)


def scope_countries(principal: Principal) -> tuple[str, ...] | None:
    """The countries whose factories `principal` may see, for a query; None: not limited."""
    if principal.role != ADVISOR or ALL_COUNTRIES in principal.countries:
        return None
    return tuple(sorted(set(principal.countries)))


def out_of_scope(principal: Principal, country: str | None) -> str:
    """The refusal's detail: the country asked about and the ones the token covers."""
    covered = ", ".join(principal.countries) or "none"
    asked = country or "A country not on record"
    return f"{asked} is not among the programmes your advisor token covers ({covered})."


def ensure_in_scope(principal: Principal, country: str | None) -> None:
    if not in_scope(principal, country):
        raise Forbidden(out_of_scope(principal, country))


def country_clause(column: Any, countries: Sequence[str] | None) -> sa.ColumnElement[bool]:
    """`scope_countries` as a WHERE clause on a country column: every row when None, else
    the rows of those countries (none for an empty scope; a NULL country never matches)."""
    if countries is None:
        return sa.true()
    clause: sa.ColumnElement[bool] = column.in_(countries)
    return clause
