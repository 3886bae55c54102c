"""Events of the eligibility service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import EventData, event

DECISIONS_PER_EVENT = 500
"""The most decisions one `eligibility.decided` event carries: a 40,000-row factory list is
80 events of ~30 KB, never one unbounded payload (a feed page, a webhook body)."""

DecisionStatus = Literal[
    "eligible",
    "needs_nomination",
    "not_eligible",
    "insufficient_data",
    "contact_programme",
    "out_of_scope",
    "enrolled",
]


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


class FactoryDecision(BaseModel):
    """One registry factory's eligibility decision, as the organisation got it."""

    model_config = ConfigDict(extra="forbid")
    factory_id: str
    status: DecisionStatus


@event(
    "eligibility.decided",
    "eligibility",
    "Eligibility decisions were recorded for registry factories (a check, a bulk check or "
    "a factory list's matched rows), at most 500 per event.",
)
class EligibilityDecided(EventData):
    org: str = Field(description="The organisation the decisions are for (the caller).")
    source: Literal["check", "bulk_check", "factory_list"]
    factory_list_id: str | None = Field(
        default=None, description="source=factory_list: the list whose rows matched them."
    )
    decisions: list[FactoryDecision] = Field(max_length=DECISIONS_PER_EVENT)
    part: int = Field(ge=1, description="This event's number among the change's `parts`.")
    parts: int = Field(ge=1)
