"""Tables of the eligibility service (request and response shapes are in `schemas`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from shared.outbox import OutboxCounter, OutboxEvent

__all__ = [
    "TABLES",
    "Factory",
    "FactoryList",
    "FactoryListChunk",
    "FactoryListUpload",
    "FactoryLookup",
    "Nomination",
    "PartnershipApplication",
]


class UtcDateTime(TypeDecorator[datetime]):
    """`TIMESTAMP WITH TIME ZONE`, read back timezone-aware in UTC also on SQLite (which
    stores it without a zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("times are stored timezone-aware (UTC)")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_TZ = UtcDateTime()


class Factory(SQLModel, table=True):
    """The registry: every known factory, enrolled or not."""

    __tablename__ = "factory"
    __table_args__ = (
        sa.UniqueConstraint("country", "match_name", name="uq_factory_country_match_name"),
        sa.UniqueConstraint("os_id", name="uq_factory_os_id"),
        sa.Index("ix_factory_country", "country", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=300)
    # name_key(name): what matching compares; unique per country so a list never meets twins.
    match_name: str = Field(max_length=300)
    address: str | None = Field(default=None, max_length=500)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=120)
    products: list[str] | None = Field(default=None, sa_type=sa.JSON)
    worker_count: int | None = None
    female_worker_share: float | None = None
    operating_since: date | None = None
    has_export_license: bool | None = None
    in_export_processing_zone: bool | None = None
    in_industrial_park: bool | None = None
    is_subcontractor: bool | None = None
    export_markets: list[str] | None = Field(default=None, sa_type=sa.JSON)
    os_id: str | None = Field(default=None, max_length=64)
    enrolment_status: str = Field(default="registered", max_length=16)
    enrolled_at: datetime | None = Field(default=None, sa_type=_TZ)
    withdrawn_at: datetime | None = Field(default=None, sa_type=_TZ)
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(sa_type=_TZ)
    updated_at: datetime = Field(sa_type=_TZ)


class FactoryLookup(SQLModel, table=True):
    """Who looked a factory up (a check, a bulk check or a list row that matched it)."""

    __tablename__ = "factory_lookup"
    __table_args__ = (sa.Index("ix_factory_lookup_factory_id", "factory_id", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    factory_id: str = Field(foreign_key="factory.id", ondelete="CASCADE", max_length=40)
    org: str = Field(max_length=300)
    user_id: str = Field(max_length=300)
    role: str = Field(max_length=20)
    source: str = Field(max_length=20)
    reference: str | None = Field(default=None, max_length=128)
    looked_up_at: datetime = Field(sa_type=_TZ)


class FactoryList(SQLModel, table=True):
    """An uploaded factory list and the state of its scoping."""

    __tablename__ = "factory_list"
    __table_args__ = (
        sa.Index("ix_factory_list_owner_org", "owner_org", "id"),
        # The job sweep looks for unfinished lists only.
        sa.Index(
            "ix_factory_list_unfinished",
            "created_at",
            postgresql_where=sa.text("status IN ('queued', 'running')"),
            sqlite_where=sa.text("status IN ('queued', 'running')"),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    owner_org: str = Field(max_length=300)
    created_by: str = Field(max_length=300)
    name: str | None = Field(default=None, max_length=300)
    status: str = Field(max_length=16)
    source_format: str = Field(max_length=8)
    row_count: int
    as_of: date
    countries: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    warnings: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    summary: dict[str, object] | None = Field(default=None, sa_type=sa.JSON)
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_type=_TZ)
    started_at: datetime | None = Field(default=None, sa_type=_TZ)
    completed_at: datetime | None = Field(default=None, sa_type=_TZ)
    # A queued or running list is a job leased to one process at a time (shared.leases):
    # the process scoping it, until when, and how many processes took it.
    lease_holder: str | None = Field(default=None, max_length=80)
    leased_until: datetime | None = Field(default=None, sa_type=_TZ)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": sa.text("0")})


class FactoryListUpload(SQLModel, table=True):
    """The rows of a list still to be scoped, as read from the upload (compressed JSON),
    and whom the decisions are for: any process can scope the list; gone once it is."""

    __tablename__ = "factory_list_upload"

    list_id: str = Field(
        sa_column=sa.Column(
            sa.String(40), sa.ForeignKey("factory_list.id", ondelete="CASCADE"), primary_key=True
        )
    )
    principal: dict[str, object] = Field(sa_type=sa.JSON)
    rows_gz: bytes = Field(sa_type=sa.LargeBinary)


class FactoryListChunk(SQLModel, table=True):
    """Up to CHUNK_ROWS result rows of a list, as compressed JSON: a 50,000-row result is
    a hundred inserts instead of fifty thousand, and a page read is one or two rows."""

    __tablename__ = "factory_list_chunk"

    list_id: str = Field(
        sa_column=sa.Column(
            sa.String(40), sa.ForeignKey("factory_list.id", ondelete="CASCADE"), primary_key=True
        )
    )
    chunk: int = Field(primary_key=True)
    first_row: int
    row_count: int
    rows_gz: bytes = Field(sa_type=sa.LargeBinary)


class PartnershipApplication(SQLModel, table=True):
    __tablename__ = "partnership_application"
    __table_args__ = (sa.Index("ix_partnership_application_org", "org", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    org: str = Field(max_length=300)
    submitted_by: str = Field(max_length=300)
    status: str = Field(max_length=20)
    registration: dict[str, object] = Field(sa_type=sa.JSON)
    logo_reference: str = Field(max_length=500)
    factory_list_id: str | None = Field(default=None, max_length=40)
    commitments: dict[str, bool] = Field(sa_type=sa.JSON)
    ilo_outcome: str = Field(default="pending", max_length=10)
    ilo_note: str | None = Field(default=None, max_length=4000)
    ilo_recorded_by: str | None = Field(default=None, max_length=300)
    ilo_recorded_at: datetime | None = Field(default=None, sa_type=_TZ)
    ifc_outcome: str = Field(default="pending", max_length=10)
    ifc_note: str | None = Field(default=None, max_length=4000)
    ifc_recorded_by: str | None = Field(default=None, max_length=300)
    ifc_recorded_at: datetime | None = Field(default=None, sa_type=_TZ)
    rejection_reason: str | None = Field(default=None, max_length=300)
    approved_at: datetime | None = Field(default=None, sa_type=_TZ)
    agreement_signed_at: datetime | None = Field(default=None, sa_type=_TZ)
    agreement_signed_on: date | None = None
    created_at: datetime = Field(sa_type=_TZ)
    updated_at: datetime = Field(sa_type=_TZ)


class Nomination(SQLModel, table=True):
    """A partner brand's nomination of a registry factory for its programme (SPEC §3):
    `active` until the partner withdraws it. One active nomination per partner and factory;
    a withdrawn one stays on record."""

    __tablename__ = "nomination"
    __table_args__ = (
        sa.Index("ix_nomination_factory_id", "factory_id", "id"),
        sa.Index("ix_nomination_partner_org", "partner_org", "id"),
        sa.Index(
            "uq_nomination_active",
            "factory_id",
            "partner_org",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    factory_id: str = Field(foreign_key="factory.id", ondelete="CASCADE", max_length=40)
    country: str = Field(max_length=2)
    partner_org: str = Field(max_length=300)
    status: str = Field(max_length=16)
    nominated_by: str = Field(max_length=300)
    withdrawn_by: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_type=_TZ)
    updated_at: datetime = Field(sa_type=_TZ)
    withdrawn_at: datetime | None = Field(default=None, sa_type=_TZ)


# Every table class of this service, for its Alembic environment.
TABLES: list[type[SQLModel]] = [
    Factory,
    FactoryLookup,
    FactoryList,
    FactoryListChunk,
    FactoryListUpload,
    Nomination,
    PartnershipApplication,
    OutboxEvent,
    OutboxCounter,
]
