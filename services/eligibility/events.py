"""The events eligibility records, in the transaction of the change (shared.outbox).

Audiences follow eligibility's own read rules (access.py), as data per event:
- a registry factory: the factory itself (a factory user reads its own entry) and the
  advisors of its country (shared.scope); buyers never read the registry;
- a factory list: its owner, and the advisors whose programmes the list touches;
- a nomination: the nominating partner and the advisors of the factory's country (as
  `GET /nominations` shows it);
- a partnership application: the applying buyer and every advisor (any advisor reads
  applications);
- the decisions a buyer got for registry factories (a check, a bulk check, a factory
  list's matched rows): that buyer, and the advisors of the factories' countries (who
  read the lookups and the lists that touch their programmes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.eligibility.domain.scoping import ScopedDecision
from services.eligibility.models import Factory, Nomination, PartnershipApplication
from shared.auth import Principal
from shared.events import eligibility as events
from shared.outbox import ALL_ADVISORS, Pending, Subject, record, record_many

__all__ = [
    "DECIDED_STATUSES",
    "application_decided",
    "decisions_recorded",
    "enrolment_changed",
    "factory_list_completed",
    "factory_registered",
    "nomination_changed",
]

# An application is "decided" when it leaves due diligence, and again when signed.
DECIDED_STATUSES = frozenset({"rejected", "approved", "agreement_signed"})


def _factory(factory: Factory) -> Subject:
    return Subject("factory", factory.id)


async def factory_registered(session: AsyncSession, factory: Factory) -> None:
    payload = events.FactoryRegistered(
        factory_id=factory.id, name=factory.name, country=factory.country, os_id=factory.os_id
    )
    await record(
        session,
        payload,
        subject=_factory(factory),
        orgs=[factory.id],
        countries=[factory.country],
    )


async def enrolment_changed(session: AsyncSession, factory: Factory) -> None:
    payload = events.FactoryEnrolmentChanged(
        factory_id=factory.id,
        country=factory.country,
        enrolment_status=factory.enrolment_status,
    )
    await record(
        session,
        payload,
        subject=_factory(factory),
        orgs=[factory.id],
        countries=[factory.country],
    )


async def factory_list_completed(
    session: AsyncSession,
    *,
    list_id: str,
    owner_org: str,
    countries: Sequence[str],
    rows: int,
    status: str,
) -> None:
    payload = events.FactoryListCompleted(
        factory_list_id=list_id,
        rows=rows,
        status=status,
    )
    await record(
        session,
        payload,
        subject=Subject("factory_list", list_id),
        orgs=[owner_org],
        # access.touches_scope: the advisors of a country the list touches (those of every
        # programme match any country).
        countries=list(countries),
    )


async def application_decided(session: AsyncSession, application: PartnershipApplication) -> None:
    if application.status not in DECIDED_STATUSES:
        return
    payload = events.PartnershipApplicationDecided(
        application_id=application.id, org=application.org, status=application.status
    )
    await record(
        session,
        payload,
        subject=Subject("partnership_application", application.id),
        orgs=[application.org],
        countries=[ALL_ADVISORS],
    )


async def nomination_changed(session: AsyncSession, nomination: Nomination) -> None:
    """Nominated (active) or withdrawn."""
    model = (
        events.NominationCreated if nomination.status == "active" else events.NominationWithdrawn
    )
    payload = model(
        nomination_id=nomination.id,
        factory_id=nomination.factory_id,
        partner_org=nomination.partner_org,
        country=nomination.country,
    )
    await record(
        session,
        payload,
        subject=Subject("nomination", nomination.id),
        orgs=[nomination.partner_org],
        countries=[nomination.country],
    )


# Whose decisions are portfolio news: a buyer's (its portfolio's eligibility column and
# its listed factories); an advisor's or a factory's own checks are not.
_BUYERS = frozenset({"partner", "participant"})
DecisionSource = Literal["check", "bulk_check", "factory_list"]


def decided_factories(
    decisions: Sequence[ScopedDecision],
) -> dict[str, tuple[str, events.DecisionStatus]]:
    """Matched registry factory -> (its country, the status decided for it); a factory on
    several rows keeps its last row's decision."""
    found: dict[str, tuple[str, events.DecisionStatus]] = {}
    for decision in decisions:
        match = decision.match
        if match is not None and match.status == "matched" and match.factory_id is not None:
            found[match.factory_id] = (decision.country, decision.status)
    return found


async def decisions_recorded(
    session: AsyncSession,
    *,
    principal: Principal,
    source: DecisionSource,
    decisions: Sequence[ScopedDecision],
    factory_list_id: str | None = None,
) -> int:
    """`eligibility.decided` events for the matched factories of a buyer's check, bulk check
    or list, in the transaction that records its lookups; how many events.

    A list's matches travel in events of at most DECISIONS_PER_EVENT factories each (a
    40,000-row list is 80 events), rather than one unbounded payload or a read of the list
    by the portfolio: the event history alone then rebuilds the portfolio, and its ingest
    never calls another service inside its transaction."""
    if principal.role not in _BUYERS:
        return 0
    decided = sorted(decided_factories(decisions).items())
    size = events.DECISIONS_PER_EVENT
    batches = [decided[start : start + size] for start in range(0, len(decided), size)]
    subject = Subject("factory_list", factory_list_id) if factory_list_id else None
    pending = [
        Pending(
            events.EligibilityDecided(
                org=principal.org,
                source=source,
                factory_list_id=factory_list_id,
                decisions=[
                    events.FactoryDecision(factory_id=factory_id, status=status)
                    for factory_id, (_, status) in batch
                ],
                part=number,
                parts=len(batches),
            ),
            subject or Subject("factory", batch[0][0]),
            orgs=[principal.org],
            countries=sorted({country for _, (country, _) in batch}),
        )
        for number, batch in enumerate(batches, start=1)
    ]
    await record_many(session, pending)
    return len(pending)
