"""Object-level access: who may see which factory, list and application.

Buyers see their own lists and applications, a factory user its own registry entry, an
advisor the factories of the programmes in its `countries` claim. Anything else is a 404,
as if it did not exist: its existence is not the caller's business.
"""

from __future__ import annotations

from services.eligibility.models import Factory, FactoryList, PartnershipApplication
from shared.auth import ALL_COUNTRIES, Principal
from shared.errors import Forbidden, NotFound

__all__ = [
    "advisor_countries",
    "ensure_advisor_covers",
    "ensure_sees_application",
    "ensure_sees_factory",
    "ensure_sees_list",
]


def advisor_countries(principal: Principal) -> list[str] | None:
    """The countries an advisor acts for; None for all programmes."""
    if ALL_COUNTRIES in principal.countries:
        return None
    return sorted(principal.countries)


def ensure_sees_factory(principal: Principal, factory: Factory) -> None:
    if principal.role == "advisor" and principal.covers_country(factory.country):
        return
    if principal.role == "factory" and principal.org == factory.id:
        return
    raise NotFound(f"There is no factory {factory.id!r} in the registry.")


def ensure_advisor_covers(principal: Principal, country: str) -> None:
    """Registry changes are for advisors of that country's programme."""
    if not principal.covers_country(country):
        covered = ", ".join(principal.countries) or "no countries"
        raise Forbidden(f"Your advisor token covers {covered}; this factory is in {country}.")


def ensure_sees_list(principal: Principal, factory_list: FactoryList) -> None:
    if principal.is_buyer and principal.org == factory_list.owner_org:
        return
    if principal.role == "advisor" and (
        ALL_COUNTRIES in principal.countries
        or any(principal.covers_country(c) for c in factory_list.countries)
    ):
        return
    raise NotFound(f"There is no factory list {factory_list.id!r}.")


def ensure_sees_application(principal: Principal, application: PartnershipApplication) -> None:
    if principal.role == "advisor" or (principal.is_buyer and principal.org == application.org):
        return
    raise NotFound(f"There is no partnership application {application.id!r}.")
