"""Events of the eligibility service."""

from __future__ import annotations

from typing import Literal

from shared.events import EventData, event


@event("factory.registered", "eligibility", "A factory was added to the registry.")
class FactoryRegistered(EventData):
    factory_id: str
    name: str
    country: str
    os_id: str | None = None


@event("factory.enrolment_changed", "eligibility", "A factory was enrolled or withdrawn.")
class FactoryEnrolmentChanged(EventData):
    factory_id: str
    country: str
    enrolment_status: Literal["registered", "enrolled", "withdrawn"]


@event("factory_list.completed", "eligibility", "A factory list finished scoping.")
class FactoryListCompleted(EventData):
    factory_list_id: str
    rows: int
    status: Literal["done", "failed"]


@event(
    "partnership_application.decided",
    "eligibility",
    "A partnership application was rejected, approved or its agreement signed.",
)
class PartnershipApplicationDecided(EventData):
    application_id: str
    org: str
    status: str


class _Nomination(EventData):
    nomination_id: str
    factory_id: str
    partner_org: str
    country: str


@event("nomination.created", "eligibility", "A partner nominated a factory for its programme.")
class NominationCreated(_Nomination):
    pass


@event("nomination.withdrawn", "eligibility", "A partner withdrew its nomination of a factory.")
class NominationWithdrawn(_Nomination):
    pass
