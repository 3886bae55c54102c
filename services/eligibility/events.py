"""The events eligibility records, in the transaction of the change (shared.outbox).

Audiences follow eligibility's own read rules (access.py), as data per event:
- a registry factory: the factory itself (a factory user reads its own entry) and the
  advisors of its country (shared.scope); buyers never read the registry;
- a factory list: its owner, and the advisors whose programmes the list touches;
- a nomination: the nominating partner and the advisors of the factory's country (as
  `GET /nominations` shows it);
- a partnership application: the applying buyer and every advisor (any advisor reads
  applications).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.eligibility.models import Factory, Nomination, PartnershipApplication
from shared.events import eligibility as events
from shared.outbox import ALL_ADVISORS, Subject, record

__all__ = [
    "DECIDED_STATUSES",
    "application_decided",
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
