"""Object-level access: who may see which factory, list and application.

Buyers see their own lists and applications, a factory user its own registry entry, an
advisor the factories of the programmes in its `countries` claim. Anything else is a 404,
as if it did not exist: its existence is not the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared.auth import Principal
from shared.errors import NotFound
from shared.scope import in_scope, scope_countries

if TYPE_CHECKING:  # the rows are only read here: the decision needs no table machinery
    from services.eligibility.models import (
        Factory,
        FactoryList,
        Nomination,
        PartnershipApplication,
    )

__all__ = [
    "ensure_sees_application",
    "ensure_sees_factory",
    "ensure_sees_list",
    "ensure_sees_nomination",
    "touches_scope",
]


def ensure_sees_factory(principal: Principal, factory: Factory) -> None:
    if principal.role == "advisor" and in_scope(principal, factory.country):
        return
    if principal.role == "factory" and principal.org == factory.id:
        return
    raise NotFound(f"There is no factory {factory.id!r} in the registry.")


def touches_scope(principal: Principal, countries: Iterable[str]) -> bool:
    """Does a buyer's factory list with factories in `countries` concern this advisor?"""
    covered = scope_countries(principal)
    return covered is None or not set(covered).isdisjoint(countries)


def ensure_sees_list(principal: Principal, factory_list: FactoryList) -> None:
    if principal.is_buyer and principal.org == factory_list.owner_org:
        return
    if principal.role == "advisor" and touches_scope(principal, factory_list.countries):
        return
    raise NotFound(f"There is no factory list {factory_list.id!r}.")


def ensure_sees_application(principal: Principal, application: PartnershipApplication) -> None:
    if principal.role == "advisor" or (principal.is_buyer and principal.org == application.org):
        return
    raise NotFound(f"There is no partnership application {application.id!r}.")


def ensure_sees_nomination(principal: Principal, nomination: Nomination) -> None:
    """The nominating partner, and advisors of the factory's programme."""
    if principal.role == "partner" and principal.org == nomination.partner_org:
        return
    if principal.role == "advisor" and in_scope(principal, nomination.country):
        return
    raise NotFound(f"There is no nomination {nomination.id!r}.")
