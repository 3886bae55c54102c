"""Tables of the reports service (request/response schemas are in `schemas.py`).

Identifiers from elsewhere (factory ids, organisation ids, user ids) are opaque strings of
at most 128 characters; our own ids are `new_id(prefix)` (time-sortable, 30 characters).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from shared.idempotency import IdempotencyRecord
from shared.outbox import OutboxCounter, OutboxEvent

__all__ = [
    "TABLES",
    "AccessRequest",
    "AssessmentFinding",
    "Membership",
    "Notification",
    "PlanItem",
    "PlanItemEvent",
    "PortalOrganisation",
    "ProgressDocument",
    "PublicFactory",
    "ReportCycle",
    "ReportDocument",
    "ReportShare",
    "Unlock",
    "ZeroToleranceAlert",
    "payment_reference_of",
]

ID = 40  # our ids: prefix + "_" + 26-character ULID
EXTERNAL_ID = 128  # factory, organisation and user ids from tokens and other services


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite hands back naive datetimes)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _id() -> Any:
    return Field(primary_key=True, max_length=ID)


def _external(*, index: bool = False) -> Any:
    return Field(max_length=EXTERNAL_ID, index=index)


def _moment(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable)


class ReportCycle(SQLModel, table=True):
    """A factory's report cycle (factory, number): the unit that buyers unlock."""

    __tablename__ = "report_cycle"
    __table_args__ = (sa.UniqueConstraint("factory_id", "cycle", name="uq_report_cycle_number"),)

    id: str = _id()
    factory_id: str = _external()
    cycle: int
    country: str = Field(max_length=2)
    opened_by: str = _external()
    opened_at: datetime = _moment()


class ReportDocument(SQLModel, table=True):
    """Assessment report, progress reports 1 and 2, advisory log entries."""

    __tablename__ = "report_document"
    __table_args__ = (
        # One assessment, one PR1 and one PR2 per cycle; advisory log entries are many.
        sa.Index(
            "uq_report_document_single_kind",
            "report_cycle_id",
            "kind",
            unique=True,
            postgresql_where=sa.text("kind <> 'advisory_log'"),
            sqlite_where=sa.text("kind <> 'advisory_log'"),
        ),
    )

    id: str = _id()
    report_cycle_id: str = Field(foreign_key="report_cycle.id", max_length=ID, index=True)
    factory_id: str = _external()
    cycle: int
    kind: str = Field(max_length=32)
    title: str = Field(max_length=200)
    body: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(max_length=16)
    author_org: str = _external()
    author_role: str = Field(max_length=16)
    created_at: datetime = _moment()
    updated_at: datetime = _moment()
    submitted_at: datetime | None = _moment(nullable=True)
    released_at: datetime | None = _moment(nullable=True)


class AssessmentFinding(SQLModel, table=True):
    __tablename__ = "assessment_finding"

    id: str = _id()
    document_id: str = Field(
        sa_column=sa.Column(
            sa.String(ID),
            sa.ForeignKey("report_document.id", ondelete="CASCADE"),
            index=True,
            nullable=False,
        )
    )
    ordinal: int
    cluster: str = Field(max_length=100)
    question: str = Field(max_length=500)
    publicly_reported: bool
    compliant: bool
    detail: str | None = Field(default=None, sa_type=sa.Text)


class PlanItem(SQLModel, table=True):
    """One item of a cycle's live improvement plan."""

    __tablename__ = "improvement_plan_item"

    id: str = _id()
    report_cycle_id: str = Field(foreign_key="report_cycle.id", max_length=ID, index=True)
    factory_id: str = _external()
    cycle: int
    source: str = Field(max_length=32)
    title: str = Field(max_length=200)
    detail: str | None = Field(default=None, sa_type=sa.Text)
    owner: str | None = Field(default=None, max_length=200)
    due_date: date | None = None
    status: str = Field(max_length=16)
    finding_id: str | None = Field(default=None, max_length=ID)
    created_at: datetime = _moment()
    updated_at: datetime = _moment()


class PlanItemEvent(SQLModel, table=True):
    """The history of a plan item: who changed which fields, from what, to what."""

    __tablename__ = "improvement_plan_event"

    id: str = _id()
    item_id: str = Field(foreign_key="improvement_plan_item.id", max_length=ID, index=True)
    action: str = Field(max_length=16)
    actor_org: str = _external()
    actor_role: str = Field(max_length=16)
    changes: str = Field(sa_type=sa.Text)  # JSON: {field: [old, new]}
    at: datetime = _moment()


class AccessRequest(SQLModel, table=True):
    """Third-party access (TPA): one row per (factory, buyer organisation)."""

    __tablename__ = "access_request"
    __table_args__ = (
        sa.UniqueConstraint("factory_id", "buyer_org", name="uq_access_request_pair"),
        # An advisor's list: the requests of its countries, by id.
        sa.Index("ix_access_request_country_id", "country", "id"),
    )

    id: str = _id()
    factory_id: str = _external()
    # The factory's country, copied from the registry when the buyer asks (as a report
    # cycle's is when it opens), so advisors' lists are scoped in the query. None only on
    # requests made before it was kept and not asked again since: advisors of every
    # programme see those, no other advisor does.
    country: str | None = Field(default=None, max_length=2)
    buyer_org: str = _external(index=True)
    buyer_role: str = Field(max_length=16)
    status: str = Field(max_length=16)
    requested_by: str = _external()
    requested_at: datetime = _moment()
    decided_at: datetime | None = _moment(nullable=True)
    updated_at: datetime = _moment()


class Unlock(SQLModel, table=True):
    """A buyer organisation's unlock of a report cycle. `pending` while the billing saga
    runs (so a retry after a crash reuses the same id, which is billing's idempotency key),
    `active` once paid for."""

    __tablename__ = "unlock"
    __table_args__ = (
        sa.UniqueConstraint("report_cycle_id", "buyer_org", name="uq_unlock_pair"),
        # The pending unlocks, oldest attempt first: what the recovery sweep looks at.
        sa.Index(
            "ix_unlock_pending",
            "attempt_started_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )

    id: str = _id()
    report_cycle_id: str = Field(foreign_key="report_cycle.id", max_length=ID)
    factory_id: str = _external()
    cycle: int
    buyer_org: str = _external(index=True)
    buyer_role: str = Field(max_length=16)
    status: str = Field(max_length=16)
    charged_credits: int = 0
    footprint_year: int | None = None
    created_by: str = _external()
    created_at: datetime = _moment()
    completed_at: datetime | None = _moment(nullable=True)
    # The payment behind an active unlock: the billing charge of the attempt that completed it.
    payment_reference: str | None = Field(default=None, max_length=64)
    # The saga's attempts of a pending unlock, one at a time: attempt n pays with reference
    # `payment_reference_of(id, n)` and holds the row since `attempt_started_at` (None: let
    # go, the next attempt may take over at once). Every reference up to `cancelled_through`
    # is known cancelled in billing; a new attempt cancels the rest before it pays.
    attempt_no: int = 0
    cancelled_through: int = 0
    attempt_started_at: datetime | None = _moment(nullable=True)


def payment_reference_of(unlock_id: str, attempt_no: int) -> str:
    """Billing's reference for attempt `attempt_no` of an unlock (attempt 0: the unlock id,
    as the unlocks made before attempts were numbered paid)."""
    return unlock_id if attempt_no == 0 else f"{unlock_id}.{attempt_no}"


class ReportShare(SQLModel, table=True):
    __tablename__ = "report_share"
    __table_args__ = (
        sa.UniqueConstraint("report_cycle_id", "from_org", "with_org", name="uq_report_share"),
        sa.Index("ix_report_share_recipient", "report_cycle_id", "with_org"),
    )

    id: str = _id()
    report_cycle_id: str = Field(foreign_key="report_cycle.id", max_length=ID)
    factory_id: str = _external()
    cycle: int
    from_org: str = _external(index=True)
    with_org: str = _external()
    unlock_id: str = Field(foreign_key="unlock.id", max_length=ID)
    created_by: str = _external()
    created_at: datetime = _moment()


class PortalOrganisation(SQLModel, table=True):
    """An organisation on the portal; its first user is the super-user."""

    __tablename__ = "portal_organisation"

    org: str = Field(primary_key=True, max_length=EXTERNAL_ID)
    super_user: str = _external()
    created_at: datetime = _moment()


class Membership(SQLModel, table=True):
    __tablename__ = "portal_membership"

    org: str = Field(primary_key=True, max_length=EXTERNAL_ID)
    user_id: str = Field(primary_key=True, max_length=EXTERNAL_ID)
    role: str = Field(max_length=16)
    status: str = Field(max_length=16)
    super_user: bool = False
    created_at: datetime = _moment()
    approved_at: datetime | None = _moment(nullable=True)
    approved_by: str | None = Field(default=None, max_length=EXTERNAL_ID)


class Notification(SQLModel, table=True):
    __tablename__ = "report_notification"
    __table_args__ = (sa.Index("ix_report_notification_org_id", "org", "id"),)

    id: str = _id()
    org: str = _external()
    kind: str = Field(max_length=32)
    message: str = Field(max_length=1000)
    factory_id: str | None = Field(default=None, max_length=EXTERNAL_ID)
    cycle: int | None = None
    subject_id: str | None = Field(default=None, max_length=ID)
    created_at: datetime = _moment()


class ZeroToleranceAlert(SQLModel, table=True):
    __tablename__ = "zero_tolerance_alert"

    id: str = _id()
    factory_id: str = _external(index=True)
    summary: str = Field(sa_type=sa.Text)
    raised_by: str = _external()
    raised_at: datetime = _moment()
    notified_partners: int = 0


class PublicFactory(SQLModel, table=True):
    """The transparency portal's row for a factory: its latest released assessment.
    Name and country are copied from the registry when an assessment is released."""

    __tablename__ = "public_factory"

    factory_id: str = Field(primary_key=True, max_length=EXTERNAL_ID)
    name: str = Field(max_length=300)
    country: str = Field(max_length=2, index=True)
    assessment_id: str = Field(foreign_key="report_document.id", max_length=ID)
    cycle: int
    assessment_released_at: datetime = _moment()


class ProgressDocument(SQLModel, table=True):
    """A document a factory attaches to its transparency-portal page."""

    __tablename__ = "progress_document"

    id: str = _id()
    factory_id: str = _external(index=True)
    title: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    link: str = Field(sa_type=sa.Text)  # normalised URLs can outgrow what was sent
    created_by: str = _external()
    created_at: datetime = _moment()


# Every table class of this service, for its Alembic environment.
TABLES: list[type[SQLModel]] = [
    IdempotencyRecord,
    ReportCycle,
    ReportDocument,
    AssessmentFinding,
    PlanItem,
    PlanItemEvent,
    AccessRequest,
    Unlock,
    ReportShare,
    PortalOrganisation,
    Membership,
    Notification,
    ZeroToleranceAlert,
    PublicFactory,
    ProgressDocument,
    OutboxEvent,
    OutboxCounter,
]
