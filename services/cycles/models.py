"""Tables of the cycles service (request and response schemas are in `schemas.py`), and a
cycle's and a visit's rows read in the domain's terms (`plan_of`, `fact`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from services.cycles.domain import VisitFact
from services.cycles.domain.schedule import CyclePlan, plan_cycle
from services.cycles.rules import country_rules
from shared.idempotency import IdempotencyRecord
from shared.outbox import OutboxCounter, OutboxEvent

DateTime = sa.DateTime(timezone=True)


def _json_list() -> Any:
    return Field(default_factory=list, sa_type=sa.JSON)


# --- tables -------------------------------------------------------------------------------


class Cycle(SQLModel, table=True):
    __tablename__ = "cycle"
    __table_args__ = (sa.UniqueConstraint("factory_id", "number", name="uq_cycle_factory_number"),)

    id: str = Field(primary_key=True, max_length=40)
    factory_id: str = Field(index=True, max_length=255)
    number: int
    country: str = Field(max_length=2)
    start_date: dt.date
    end_date: dt.date
    assessment_skipped: bool = False
    training_participant_days: int
    # The version of the cycle rule data (rules/cycle_<version>.json) the cycle was opened
    # with: its plan is recomputed from it, so newer rules never move its windows.
    schedule_rules: str = Field(max_length=10)
    # Document kinds seen released in reports: a release is never undone, so once seen
    # the service stops asking.
    released_documents: list[str] = _json_list()
    opened_by: str = Field(max_length=255)
    opened_at: dt.datetime = Field(sa_type=DateTime)
    # `updated_since` of the cycle list: `updated_at` moves with changes a factory and its
    # buyers may see; `changed_at` with every change (advisors). Two columns, so that
    # planning the unannounced assessment never makes the cycle "updated" for them.
    updated_at: dt.datetime | None = Field(default=None, sa_type=DateTime)
    changed_at: dt.datetime | None = Field(default=None, sa_type=DateTime)


class Visit(SQLModel, table=True):
    __tablename__ = "visit"

    id: str = Field(primary_key=True, max_length=40)
    cycle_id: str = Field(foreign_key="cycle.id", index=True, max_length=40)
    factory_id: str = Field(max_length=255)
    country: str = Field(max_length=2)
    type: str = Field(max_length=32)
    status: str = Field(max_length=16)
    date: dt.date
    end_date: dt.date
    assessors: list[str] = _json_list()
    note: str | None = Field(default=None, max_length=4000)
    buyer_org: str | None = Field(default=None, index=True, max_length=255)
    # The one-per-year shadow slot this visit holds (domain.shadow_key); NULL otherwise.
    shadow_slot: str | None = Field(default=None, unique=True, index=True, max_length=600)
    requested_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_type=DateTime)
    completed_at: dt.datetime | None = Field(default=None, sa_type=DateTime)
    completed_by: str | None = Field(default=None, max_length=255)
    cancelled_at: dt.datetime | None = Field(default=None, sa_type=DateTime)


class TrainingBooking(SQLModel, table=True):
    __tablename__ = "training_booking"

    id: str = Field(primary_key=True, max_length=40)
    cycle_id: str = Field(foreign_key="cycle.id", index=True, max_length=40)
    course: str = Field(max_length=200)
    participants: int
    days: int
    participant_days: int
    booked_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_type=DateTime)


class TrainingPurchase(SQLModel, table=True):
    __tablename__ = "training_purchase"

    id: str = Field(primary_key=True, max_length=40)
    cycle_id: str = Field(foreign_key="cycle.id", index=True, max_length=40)
    participant_days: int
    reference: str | None = Field(default=None, max_length=200)
    purchased_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_type=DateTime)


class Seminar(SQLModel, table=True):
    __tablename__ = "seminar"

    id: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=200)
    date: dt.date
    country: str = Field(max_length=2, index=True)
    duration: str = Field(max_length=16)
    capacity: int
    created_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_type=DateTime)


class SeminarRegistration(SQLModel, table=True):
    __tablename__ = "seminar_registration"
    __table_args__ = (
        sa.UniqueConstraint("seminar_id", "factory_id", name="uq_registration_seminar_factory"),
    )

    id: str = Field(primary_key=True, max_length=40)
    seminar_id: str = Field(foreign_key="seminar.id", index=True, max_length=40)
    factory_id: str = Field(max_length=255)
    participants: int
    registered_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_type=DateTime)


class SeminarActionPlan(SQLModel, table=True):
    __tablename__ = "seminar_action_plan"

    id: str = Field(primary_key=True, max_length=40)
    seminar_id: str = Field(foreign_key="seminar.id", max_length=40)
    registration_id: str = Field(foreign_key="seminar_registration.id", index=True, max_length=40)
    factory_id: str = Field(max_length=255)
    cycle_number: int
    items: list[dict[str, Any]] = _json_list()
    recorded_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_type=DateTime)


class Classification(SQLModel, table=True):
    __tablename__ = "classification"

    id: str = Field(primary_key=True, max_length=40)
    factory_id: str = Field(index=True, max_length=255)
    high_performing: bool
    cycles: list[int] = _json_list()
    criteria: list[dict[str, Any]] = _json_list()
    classified_by: str = Field(max_length=255)
    created_at: dt.datetime = Field(sa_type=DateTime)


class MilestoneAlert(SQLModel, table=True):
    """A time-based event to send: one row per cycle, milestone and kind, planned when the
    cycle opens; `sent_at` is set in the transaction that records its event (jobs.py)."""

    __tablename__ = "milestone_alert"
    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "milestone", "kind", name="uq_milestone_alert"),
        sa.Index("ix_milestone_alert_pending", "fire_on", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    cycle_id: str = Field(foreign_key="cycle.id", max_length=40)
    milestone: str = Field(max_length=40)
    kind: str = Field(max_length=16)
    due: dt.date
    fire_on: dt.date
    sent_at: dt.datetime | None = Field(default=None, sa_type=DateTime)
    # sent | not_needed (done or skipped by then) | late (past its moment) | backfilled
    outcome: str | None = Field(default=None, max_length=16)


# Every table class of this service, for its Alembic environment.
TABLES: list[type[SQLModel]] = [
    Cycle,
    Visit,
    TrainingBooking,
    TrainingPurchase,
    Seminar,
    SeminarRegistration,
    SeminarActionPlan,
    Classification,
    MilestoneAlert,
    IdempotencyRecord,
    OutboxEvent,
    OutboxCounter,
]


# --- rows in the domain's terms ----------------------------------------------------------


def plan_of(cycle: Cycle) -> CyclePlan:
    """The cycle's schedule, by the rules and training allowance it was opened with."""
    rules = country_rules(
        cycle.country,
        training_participant_days=cycle.training_participant_days,
        version=cycle.schedule_rules,
    )
    return plan_cycle(
        start=cycle.start_date,
        number=cycle.number,
        rules=rules,
        high_performing=cycle.assessment_skipped,
    )


def fact(visit: Visit) -> VisitFact:
    return VisitFact(
        id=visit.id,
        type=visit.type,
        status=visit.status,
        date=visit.date,
        buyer_org=visit.buyer_org,
    )
