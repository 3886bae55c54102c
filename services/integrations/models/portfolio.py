"""Tables of the brand portfolio.

Two layers: the *facts* the events carry (one row per factory, one per organisation and
factory relation), and the *rows* as each viewer reads them (`portfolio_row`, one per
viewer and factory, with the columns its access allows already decided), so a page, a
filter or a CSV export is one indexed query and never an access decision at read time.
Advisors read as one viewer (`ADVISORS`), filtered by their programmes' countries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.sqltypes import UtcDateTime

__all__ = ["ADVISORS", "PORTFOLIO_TABLES", "PortfolioFactory", "PortfolioRelation", "PortfolioRow"]

ADVISORS = "@advisors"  # the viewer key of Better Work's advisors (never an org id: "@")


class PortfolioFactory(SQLModel, table=True):
    """What the events said about one factory, whoever may read it (the rows decide)."""

    __tablename__ = "portfolio_factory"
    __table_args__ = (sa.Index("ix_portfolio_factory_country", "country"),)

    factory_id: str = Field(primary_key=True, max_length=40)
    name: str | None = Field(default=None, max_length=300)
    country: str | None = Field(default=None, max_length=2)
    os_id: str | None = Field(default=None, max_length=64)
    enrolment_status: str | None = Field(default=None, max_length=16)
    high_performing: bool | None = None
    classification_orgs: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    cycle: int | None = None  # the current (latest opened) service cycle
    cycle_id: str | None = Field(default=None, max_length=40)
    # milestone code -> {"state": "due"|"overdue", "advisors_only": bool}, current cycle only;
    # never a date (the assessment milestone's timing would point at the unannounced date).
    milestones: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    released: dict[str, list[str]] = Field(default_factory=dict, sa_type=sa.JSON)  # cycle: kinds
    assessment_cycle: int | None = None  # of the latest released assessment
    assessment_released_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    findings_all: dict[str, int] | None = Field(default=None, sa_type=sa.JSON)
    findings_public: dict[str, int] | None = Field(default=None, sa_type=sa.JSON)
    # Improvement plan items: id -> {"cycle": int, "due_date": "YYYY-MM-DD" | None,
    # "open": bool}. Whether one is overdue is decided when read (a date passes without an
    # event), so rows keep the due dates, not a count.
    plan_items: dict[str, dict[str, Any]] = Field(default_factory=dict, sa_type=sa.JSON)
    # The last event a buyer may know of; advisors' also counts their own (the unannounced
    # assessment's alerts), whose timing must not reach a buyer's `as_of`.
    as_of: datetime = Field(sa_type=UtcDateTime)
    advisors_as_of: datetime = Field(sa_type=UtcDateTime)


class PortfolioRelation(SQLModel, table=True):
    """One organisation's ties to one factory, as the owning services' events said."""

    __tablename__ = "portfolio_relation"
    __table_args__ = (sa.Index("ix_portfolio_relation_factory", "factory_id"),)

    org: str = Field(primary_key=True, max_length=128)
    factory_id: str = Field(primary_key=True, max_length=40)
    tpa_state: str | None = Field(default=None, max_length=16)
    unlocked: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    shared: list[int] = Field(default_factory=list, sa_type=sa.JSON)  # cycles shared with it
    nominated: bool = False
    lists: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # its lists that matched it
    # The organisation's latest eligibility decision for the factory (a check or a list).
    eligibility_status: str | None = Field(default=None, max_length=20)
    as_of: datetime = Field(sa_type=UtcDateTime)


class PortfolioRow(SQLModel, table=True):
    """One factory as one viewer reads it: what `GET /portfolio/factories` serves."""

    __tablename__ = "portfolio_row"
    __table_args__ = (
        sa.Index("ix_portfolio_row_name", "viewer", "name_key", "factory_id"),
        sa.Index("ix_portfolio_row_as_of", "viewer", "as_of", "factory_id"),
        sa.Index("ix_portfolio_row_country", "viewer", "country", "factory_id"),
    )

    viewer: str = Field(primary_key=True, max_length=128)
    factory_id: str = Field(primary_key=True, max_length=40)
    name_key: str = Field(max_length=300)  # lower-cased name (the id when unknown): the sort
    name: str | None = Field(default=None, max_length=300)
    country: str = Field(default="", max_length=2)  # "" until the registry event is in
    os_id: str | None = Field(default=None, max_length=64)
    enrolment_status: str | None = Field(default=None, max_length=16)
    eligibility_status: str | None = Field(default=None, max_length=20)
    relations: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    listed: bool = False  # "listed" in relations, as a column the summary's coverage counts
    tpa_state: str | None = Field(default=None, max_length=16)
    cycle: int | None = None
    milestones: dict[str, str] | None = Field(default=None, sa_type=sa.JSON)
    overdue: bool = False
    unlocked_cycles: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    latest_assessment_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    findings_basis: str | None = Field(default=None, max_length=8)  # "report" | "public"
    findings: dict[str, int] | None = Field(default=None, sa_type=sa.JSON)
    high_performing: bool | None = None
    # Due dates (ISO, sorted) of the open plan items of the cycles this viewer reads; None:
    # it reads none of the factory's reports. The overdue count is taken when served.
    plan_due: list[str] | None = Field(default=None, sa_type=sa.JSON)
    as_of: datetime = Field(sa_type=UtcDateTime)


PORTFOLIO_TABLES: list[type[SQLModel]] = [PortfolioFactory, PortfolioRelation, PortfolioRow]
