"""Nominations as records (SPEC §3, "Nominations"): who may nominate, where a nomination is
needed, and which recorded nomination a decision names. Pure; `store.nominations` reads
and writes the rows.

The guide: factories in Bangladesh, Cambodia, Pakistan and Vietnam must "be nominated by a
BW partner brand" (Table 1). The programmes that ask for it are those whose rule file has a
`nomination` requirement; a participant (who buys report cycles, not a partnership) cannot
nominate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from services.eligibility.domain.decision import RecordedNomination
from services.eligibility.domain.ruleset import Programme, RuleBook
from shared.auth import Principal
from shared.errors import Forbidden, Unprocessable
from shared.scope import in_scope

__all__ = [
    "NOMINATING_ROLE",
    "NominationRow",
    "counted_nomination",
    "ensure_may_nominate",
    "ensure_programme_asks_for_nomination",
    "nominating_countries",
]

NOMINATING_ROLE = "partner"


class NominationRow(Protocol):
    """What a decision needs of an active nomination."""

    @property
    def id(self) -> str: ...
    @property
    def partner_org(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


def ensure_may_nominate(principal: Principal) -> None:
    if principal.role != NOMINATING_ROLE:
        raise Forbidden(
            "Only a Better Work partner brand can nominate a factory (the guide: factories "
            f"must be 'nominated by a BW partner brand'); your token has role "
            f"{principal.role!r}. A participant can become a partner with "
            "POST /partnership-applications, or check a factory with "
            "nominated_by_partner as an assumption."
        )


def nominating_countries(rule_book: RuleBook, as_of: date) -> list[str]:
    """The programmes whose rules in force on `as_of` ask for a partner's nomination."""
    return [p.country for p in rule_book.all_in_force(as_of) if p.asks_for_nomination]


def ensure_programme_asks_for_nomination(
    programme: Programme | None, *, country: str, asking: Sequence[str]
) -> Programme:
    if programme is None or not programme.asks_for_nomination:
        name = programme.name if programme is not None else f"Better Work in {country}"
        raise Unprocessable(
            f"{name} does not ask for a partner brand's nomination; the programmes that do: "
            f"{', '.join(asking) or 'none'}.",
            rule="nomination_required_by_programme",
        )
    return programme


def counted_nomination(
    factory_id: str, active: Sequence[NominationRow], *, viewer: Principal | None
) -> RecordedNomination:
    """The nomination a decision names: the viewer's own organisation's when it has one,
    else the earliest. Another buyer's name is not the viewer's business (supply chains are
    confidential): only the nominating organisation and the advisors of the factory's
    programme are told who it was."""
    if not active:
        return RecordedNomination(factory_id, None)
    own = [n for n in active if viewer is not None and n.partner_org == viewer.org]
    chosen = min(own or active, key=lambda n: (n.created_at, n.id))
    by: str | None = None
    if viewer is not None and chosen.partner_org == viewer.org:
        by = f"your organisation ({chosen.partner_org})"
    elif viewer is not None and viewer.role == "advisor" and in_scope(viewer, chosen.country):
        by = f"partner {chosen.partner_org}"
    return RecordedNomination(factory_id, chosen.id, chosen.created_at.date(), by)
