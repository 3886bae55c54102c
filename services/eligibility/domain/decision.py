"""What a decision is made of: the facts the engine reads and the decision it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol, TypeVar

from services.eligibility.domain.ruleset import ParticipationLevel, ServiceName

# The one list of statuses, shared with the event that carries decisions (shared.events).
from shared.events.eligibility import DecisionStatus

__all__ = [
    "DECISION_STATUSES",
    "Decision",
    "DecisionNote",
    "DecisionStatus",
    "DecisionT",
    "Facts",
    "Outcome",
    "Participation",
    "Reason",
    "RecordedNomination",
    "ServiceOffer",
    "Waitlist",
]

DECISION_STATUSES: tuple[str, ...] = DecisionStatus.__args__  # type: ignore[attr-defined]
Outcome = Literal["passed", "failed", "missing", "unverified", "info"]
Participation = ParticipationLevel | dict[ServiceName, ParticipationLevel] | None


@dataclass(frozen=True, slots=True)
class RecordedNomination:
    """What the nominations partners recorded say about a registry factory, when a
    decision uses them (the caller did not send `nominated_by_partner`)."""

    factory_id: str
    nomination_id: str | None  # the nomination that counted; None: none is recorded
    recorded_on: date | None = None
    nominated_by: str | None = None  # who, as far as the caller may be told


class Facts(Protocol):
    """What the engine reads about a factory (the API's FactoryFacts has these fields)."""

    @property
    def country(self) -> str: ...
    @property
    def products(self) -> Sequence[str] | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def in_export_processing_zone(self) -> bool | None: ...
    @property
    def worker_count(self) -> int | None: ...
    @property
    def female_worker_share(self) -> float | None: ...
    @property
    def operating_since(self) -> date | None: ...
    @property
    def has_export_license(self) -> bool | None: ...
    @property
    def nominated_by_partner(self) -> bool | None: ...
    @property
    def export_markets(self) -> Sequence[str] | None: ...
    @property
    def is_subcontractor(self) -> bool | None: ...
    @property
    def in_industrial_park(self) -> bool | None: ...
    @property
    def wants_advisory(self) -> bool | None: ...
    @property
    def recorded_nomination(self) -> RecordedNomination | None:
        """Set when the nomination rule reads the registry's records, not the caller's
        `nominated_by_partner` (then `nominated_by_partner` says what they found)."""


@dataclass(slots=True)
class Reason:
    """One rule and how the factory fared: `passed` is null when the rule could not be
    evaluated (`outcome` missing or unverified) or only informs (`outcome` info)."""

    code: str
    passed: bool | None
    outcome: Outcome
    message: str
    rule: str


@dataclass(slots=True)
class ServiceOffer:
    available: bool
    participation: ParticipationLevel | None


@dataclass(slots=True)
class DecisionNote:
    code: str
    message: str


@dataclass(slots=True)
class Waitlist:
    """The programme's capacity is fully booked on the decision's date: a factory that can
    join waits for a place (Bangladesh: "Capacity currently fully booked to 2024")."""

    status: Literal["waitlisted"]
    until: date
    message: str


@dataclass(slots=True)
class Decision:
    """Whether a factory can join its country's Better Work programme, and why."""

    country: str
    status: DecisionStatus
    participation: Participation
    services: dict[ServiceName, ServiceOffer]
    priority: bool | None
    reasons: list[Reason]
    missing_fields: tuple[str, ...]
    notes: list[DecisionNote]
    as_of: date
    rules_effective_from: date | None = None
    programme: str | None = None
    waitlist: Waitlist | None = None


DecisionT = TypeVar("DecisionT", bound=Decision)
