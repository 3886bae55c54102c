"""Request and response schemas of the cycles service (tables are in `models.py`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, StringConstraints

from services.cycles.domain import MilestoneStatus, VisitStatus, VisitType
from services.cycles.rules import cycle_rules
from shared.types import Id, text


def _iso_date_only(value: Any) -> Any:
    """Dates as `YYYY-MM-DD` only: pydantic would otherwise read `0` or `"1700000000"` as
    a Unix time, and a client's mistake would pass as a date in 1970 or 2023."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
# Dates the service plans with: wide enough for history and planning, narrow enough that
# month arithmetic never leaves the calendar.
PlanDate = Annotated[IsoDate, pydantic.Field(ge=dt.date(2000, 1, 1), le=dt.date(2100, 12, 31))]
# JSON numbers and booleans as such: "5" is not 5, and "yes" is not true.
Count = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
# Control characters break logs, CSV exports and iCalendar; shared/types refuses them.
Text = Annotated[str, text(200)]
LongText = Annotated[str, text(2000, min_length=0, multiline=True)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CycleCreate(_Body):
    start_date: PlanDate
    skip_assessment: Flag = pydantic.Field(
        False,
        description=(
            "High-performing option: no assessment in this cycle (every other year). Only for "
            "a factory classified high-performing whose previous cycle was assessed."
        ),
    )


class MilestonePublic(BaseModel):
    code: str
    title: str
    due: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None
    status: MilestoneStatus
    visits_min: int | None = None
    visits_max: int | None = None
    visits_completed: int | None = None
    date: dt.date | None = pydantic.Field(
        None, description="Assessment only: its planned (advisors) or held date."
    )
    unannounced: bool = False
    notice: str | None = None


class CyclePublic(BaseModel):
    id: str
    factory_id: str
    number: int
    country: str
    start_date: dt.date
    end_date: dt.date
    assessment_skipped: bool
    training_participant_days: int
    schedule_rules: str = pydantic.Field(
        description="The version of the Table 2 rule data this cycle was scheduled with; a "
        "cycle keeps it (cycles opened before 2026-11-29: '2024-01-01', assessment by the end "
        "of month 5; later: the assessment by the end of month 4)."
    )
    milestones: list[MilestonePublic]
    notice: str | None = pydantic.Field(
        None, description="'unannounced assessment in this cycle' for factories and buyers."
    )


class VisitCreate(_Body):
    type: VisitType
    date: PlanDate
    assessors: list[Text] | None = pydantic.Field(
        None, max_length=10, description="Assessment: the two assessors."
    )
    note: LongText | None = pydantic.Field(
        None, description="Joint advisory: the roles and messages agreed in advance."
    )
    buyer_org: Id | None = pydantic.Field(
        None, description="Advisors recording a joint or shadow visit: the buyer's organisation."
    )


class VisitComplete(_Body):
    date: PlanDate | None = pydantic.Field(
        None, description="When it took place (default: as planned)."
    )
    assessors: list[Text] | None = pydantic.Field(None, max_length=10)
    note: LongText | None = None


class VisitPublic(BaseModel):
    id: str
    cycle_id: str
    type: VisitType
    status: VisitStatus
    date: dt.date
    end_date: dt.date
    assessors: list[str] = []
    note: str | None = None
    buyer_org: str | None = None
    created_at: dt.datetime
    completed_at: dt.datetime | None = None


class TrainingBookingCreate(_Body):
    course: Text
    participants: Count = pydantic.Field(ge=1, le=1000)
    days: Count = pydantic.Field(ge=1, le=30)


class TrainingBookingPublic(BaseModel):
    id: str
    cycle_id: str
    course: str
    participants: int
    days: int
    participant_days: int
    created_at: dt.datetime


class TrainingPurchaseCreate(_Body):
    participant_days: Count = pydantic.Field(ge=1, le=10_000)
    reference: Text | None = pydantic.Field(
        None, description="Your purchase order or invoice number."
    )


class TrainingPurchasePublic(BaseModel):
    id: str
    cycle_id: str
    participant_days: int
    reference: str | None
    created_at: dt.datetime


class TrainingBalancePublic(BaseModel):
    cycle_id: str
    allowance: int
    purchased: int
    used: int
    remaining: int


class TrainingBookingReply(TrainingBalancePublic):
    booking: TrainingBookingPublic


class TrainingPurchaseReply(TrainingBalancePublic):
    purchase: TrainingPurchasePublic


class TrainingSummary(TrainingBalancePublic):
    bookings: list[TrainingBookingPublic]
    purchases: list[TrainingPurchasePublic]


# The seminar cap is rule data (rules/cycle_<version>.json, the current version): the schema
# validates against it and publishes it, so changing the file alone changes both.
SEMINAR_CAPACITY_MAX = cycle_rules().seminar_capacity_max


class SeminarCreate(_Body):
    title: Text
    date: PlanDate
    country: Country
    duration: Literal["half_day", "full_day"]
    capacity: Count = pydantic.Field(ge=1, le=SEMINAR_CAPACITY_MAX)


class SeminarPublic(BaseModel):
    id: str
    title: str
    date: dt.date
    country: str
    duration: Literal["half_day", "full_day"]
    capacity: int
    quarter: str
    registered_participants: int
    places_left: int


class RegistrationCreate(_Body):
    factory_id: Id
    participants: Count = pydantic.Field(ge=1, le=SEMINAR_CAPACITY_MAX)


class RegistrationPublic(BaseModel):
    id: str
    seminar_id: str
    factory_id: str
    participants: int
    places_left: int
    created_at: dt.datetime


class ActionPlanItem(_Body):
    title: Text
    owner: Text | None = None
    due_date: PlanDate | None = None


class ActionPlanCreate(_Body):
    items: list[ActionPlanItem] = pydantic.Field(min_length=1, max_length=50)


class ActionPlanPublic(BaseModel):
    id: str
    seminar_id: str
    registration_id: str
    factory_id: str
    cycle: int
    items: list[dict[str, Any]]
    created_at: dt.datetime


class ManagementSystemsEvidence(_Body):
    osh_management_system: Flag = pydantic.Field(
        description="All elements of the OSH management system are satisfied."
    )
    hr_management_system: Flag = pydantic.Field(
        description="All elements of the HR management system are satisfied."
    )
    evidence: LongText = pydantic.Field(min_length=1)


class SocialDialogueEvidence(_Body):
    active_bipartite_committee: Flag
    management_decision_authority: Flag
    freely_chosen_worker_members: Flag
    open_union_communication: Flag
    effective_grievance_handling: Flag
    evidence: LongText = pydantic.Field(min_length=1)


class LearningEvidence(_Body):
    needs_based_learning_plan: Flag = pydantic.Field(
        description="Developed in consultation with elected worker (and union) representatives."
    )
    learning_plan_implemented: Flag
    evidence: LongText = pydantic.Field(min_length=1)


class ClassificationCreate(_Body):
    management_systems: ManagementSystemsEvidence
    social_dialogue: SocialDialogueEvidence
    learning: LearningEvidence


class CriterionPublic(BaseModel):
    code: str
    title: str
    passed: bool
    evidence: list[str]
    failed_elements: list[str]


class ClassificationPublic(BaseModel):
    id: str
    factory_id: str
    high_performing: bool
    cycles: list[int]
    criteria: list[CriterionPublic]
    failed_criteria: list[str]
    classified_at: dt.datetime


class HighPerformingStatus(BaseModel):
    """A factory's current differentiation as buyers see it: the outcome, not the evidence."""

    factory_id: str
    classified: bool = pydantic.Field(description="Whether an advisor has classified it yet.")
    high_performing: bool = pydantic.Field(
        description="High-performing at its latest classification (false when unclassified)."
    )
    classified_at: dt.datetime | None
