"""The transactional outbox: every service records the events of its state changes in its
own database, in the same transaction as the change (ARCHITECTURE.md, "Events"), and serves
them in order on `GET /internal/events` to the integrations service.

- **In the same transaction**: `record()` adds the event to the caller's session, so there
  is no change without its event and no event without its change.
- **Gap-free, in commit order**: each event takes the next number of the service's one
  counter row with a conditional UPDATE, whose row lock is held until commit. A second
  transaction that records an event waits for the first to commit (or roll back, giving the
  number back), so numbers are dense and become visible in order: a reader that has seen
  number n never later finds an n' < n committed. Event-writing transactions of one
  service queue on that row for the moment between their event and their commit; on SQLite
  writers are serialised anyway.
- **Audience decided here**: the organisations that may see the event (buyers, factories)
  and the programme countries whose advisors may (`"*"`: every advisor), decided by the
  owning service with the same access functions its reads use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field as SqlField
from sqlmodel import SQLModel, col

from shared.auth import ServiceCaller
from shared.db import SessionDep, insert_row
from shared.events import CATALOGUE, EventData
from shared.ids import new_id
from shared.sqltypes import UtcDateTime

__all__ = [
    "ALL_ADVISORS",
    "EventBatch",
    "EventOut",
    "OutboxCounter",
    "OutboxEvent",
    "Pending",
    "Subject",
    "create_tables",
    "events_router",
    "gated_record_parameters",
    "gated_record_sql",
    "next_number",
    "next_numbers",
    "record",
    "record_many",
]

ALL_ADVISORS = "*"
COUNTER = "events"


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"

    sequence: int = SqlField(
        primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    id: str = SqlField(max_length=40, unique=True)
    type: str = SqlField(max_length=80)
    occurred_at: datetime = SqlField(sa_type=UtcDateTime)
    subject_type: str = SqlField(max_length=40)
    subject_id: str = SqlField(max_length=128)
    data: str = SqlField(sa_type=sa.Text)  # JSON
    orgs: str = SqlField(sa_type=sa.Text)  # JSON list of organisation ids
    countries: str = SqlField(sa_type=sa.Text)  # JSON list of ISO codes, or ["*"]


class OutboxCounter(SQLModel, table=True):
    __tablename__ = "outbox_counter"

    name: str = SqlField(primary_key=True, max_length=16)
    last: int = SqlField(default=0, sa_type=sa.BigInteger)


def create_tables() -> None:
    """For a service's migration: the outbox and its counter."""
    from alembic import op

    op.create_table(
        "outbox_event",
        sa.Column("sequence", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("orgs", sa.Text, nullable=False),
        sa.Column("countries", sa.Text, nullable=False),
    )
    op.create_table(
        "outbox_counter",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False),
    )


@dataclass(frozen=True, slots=True)
class Subject:
    """What the event is about: `Subject("invoice", "inv_…")`."""

    type: str
    id: str


@functools.cache
def _take_numbers(dialect: str, table: sa.Table) -> Any:
    """The counter upsert of `table`, built once per dialect with its values bound at
    execution: the same compiled statement every time (an ORM-entity INSERT with inline
    values is re-keyed, and here re-compiled, on every call: a hot path's largest cost)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["name"], set_={"last": table.c.last + statement.excluded.last}
    ).returning(table.c.name, table.c.last)


def _counter_upsert(session: AsyncSession, table: type[SQLModel]) -> Any:
    return _take_numbers(session.get_bind().dialect.name, table.__table__)  # type: ignore[attr-defined]


async def next_number(
    session: AsyncSession, table: type[SQLModel], name: str, count: int = 1
) -> int:
    """Take the next `count` numbers of a counter row (created at its first use), holding
    its row lock until the caller's commit; the last number taken."""
    row = (
        await session.execute(_counter_upsert(session, table), {"name": name, "last": count})
    ).one()
    return int(row.last)


async def next_numbers(
    session: AsyncSession, table: type[SQLModel], counts: Mapping[str, int]
) -> dict[str, int]:
    """`next_number` for several counters in one statement: name -> the last number taken.
    Rows are taken in name order, so two callers never wait on each other crosswise."""
    if not counts:
        return {}
    rows = [{"name": name, "last": counts[name]} for name in sorted(counts)]
    statement = _counter_upsert(session, table).values(rows)
    return {str(name): int(last) for name, last in (await session.execute(statement)).all()}


@dataclass(frozen=True, slots=True)
class Pending:
    """One event of `record_many`: its payload, subject and audience."""

    payload: EventData
    subject: Subject
    orgs: Sequence[str] = ()
    countries: Sequence[str] = ()


def _known(payload: EventData) -> None:
    if payload.event_type not in CATALOGUE:
        raise ValueError(f"{type(payload).__name__} is not an event of the catalogue")


def _row(event: Pending, *, sequence: int, occurred_at: datetime) -> OutboxEvent:
    countries = {c.upper() if c != ALL_ADVISORS else c for c in event.countries}
    return OutboxEvent(
        sequence=sequence,
        id=new_id("evt"),
        type=event.payload.event_type,
        occurred_at=occurred_at,
        subject_type=event.subject.type,
        subject_id=event.subject.id,
        data=event.payload.model_dump_json(),
        orgs=json.dumps(sorted(set(event.orgs))),
        countries=json.dumps(sorted(countries)),
    )


async def record(
    session: AsyncSession,
    payload: EventData,
    *,
    subject: Subject,
    orgs: Sequence[str] = (),
    countries: Sequence[str] = (),
    occurred_at: datetime | None = None,
) -> OutboxEvent:
    """Record the event of `payload`'s type (`shared.events`) in the caller's transaction
    (the caller commits). `orgs` and `countries` are its audience."""
    _known(payload)
    sequence = await next_number(session, OutboxCounter, COUNTER)
    pending = Pending(payload, subject, orgs, countries)
    event = _row(pending, sequence=sequence, occurred_at=occurred_at or datetime.now(UTC))
    await insert_row(session, event)
    return event


async def record_many(
    session: AsyncSession, events: Sequence[Pending], *, occurred_at: datetime | None = None
) -> list[OutboxEvent]:
    """`record` for many events of one change (a bulk request's): one counter update and
    one INSERT, however many; in the order given."""
    if not events:
        return []
    for event in events:  # refuse unknown types before taking numbers
        _known(event.payload)
    moment = occurred_at or datetime.now(UTC)
    last = await next_number(session, OutboxCounter, COUNTER, count=len(events))
    first = last - len(events) + 1
    rows = [_row(e, sequence=first + i, occurred_at=moment) for i, e in enumerate(events)]
    await session.execute(sa.insert(OutboxEvent), [row.model_dump() for row in rows])
    return rows


# --- recording in the change's own statement (PostgreSQL) --------------------------------


@functools.cache
def gated_record_sql(gate: str) -> str:
    """Two CTEs (`outbox_number`, `outbox_row`) that record one event in the statement that
    makes its change, if the CTE named `gate` returns a row (at most one): the counter's
    next number, then the event row, from `gated_record_parameters`. A change that is one
    statement then commits with its event in one round trip (no BEGIN, no COMMIT, no
    statements of their own for the number and the row), and the counter's row lock is
    held for that statement only, not across round trips. PostgreSQL only; `record` does
    the same in the caller's transaction elsewhere. `gate` is a CTE name from code."""
    # Parameters in a SELECT list have no column to take their type from: cast each.
    return f"""
    outbox_number AS (
        INSERT INTO outbox_counter (name, last) SELECT '{COUNTER}', 1 FROM {gate}
        ON CONFLICT (name) DO UPDATE SET last = outbox_counter.last + excluded.last
        RETURNING last
    ), outbox_row AS (
        INSERT INTO outbox_event
            (sequence, id, type, occurred_at, subject_type, subject_id, data, orgs, countries)
        SELECT last, CAST(:outbox_id AS VARCHAR), CAST(:outbox_type AS VARCHAR),
            CAST(:outbox_occurred_at AS TIMESTAMPTZ), CAST(:outbox_subject_type AS VARCHAR),
            CAST(:outbox_subject_id AS VARCHAR), CAST(:outbox_data AS TEXT),
            CAST(:outbox_orgs AS TEXT), CAST(:outbox_countries AS TEXT)
        FROM outbox_number
    )"""  # noqa: S608 (`gate` is a CTE name from code)


def gated_record_parameters(event: Pending, *, occurred_at: datetime) -> dict[str, Any]:
    """The parameters of `gated_record_sql` for `event`."""
    _known(event.payload)
    row = _row(event, sequence=0, occurred_at=occurred_at)  # the number is taken in SQL
    return {
        "outbox_id": row.id,
        "outbox_type": row.type,
        "outbox_occurred_at": row.occurred_at,
        "outbox_subject_type": row.subject_type,
        "outbox_subject_id": row.subject_id,
        "outbox_data": row.data,
        "outbox_orgs": row.orgs,
        "outbox_countries": row.countries,
    }


# --- the internal feed -------------------------------------------------------------------


class EventOut(BaseModel):
    sequence: int
    id: str
    type: str
    occurred_at: datetime
    subject: dict[str, str]
    data: dict[str, Any]
    orgs: list[str]
    countries: list[str]

    @classmethod
    def of(cls, row: OutboxEvent) -> EventOut:
        return cls(
            sequence=row.sequence,
            id=row.id,
            type=row.type,
            occurred_at=row.occurred_at,
            subject={"type": row.subject_type, "id": row.subject_id},
            data=json.loads(row.data),
            orgs=json.loads(row.orgs),
            countries=json.loads(row.countries),
        )


class EventBatch(BaseModel):
    events: list[EventOut]
    last_sequence: int = Field(description="The highest sequence recorded so far.")


def events_router() -> APIRouter:
    router = APIRouter(prefix="/internal", tags=["internal"])

    @router.get("/events")
    async def list_outbox_events(
        session: SessionDep,
        _caller: ServiceCaller,
        after: int = Query(0, ge=0, le=2**62, description="The last sequence already read."),
        limit: int = Query(500, ge=1, le=1000),
    ) -> EventBatch:
        """This service's events after `after`, in order (integrations pulls them)."""
        rows = (
            await session.execute(
                sa.select(OutboxEvent)
                .where(col(OutboxEvent.sequence) > after)
                .order_by(col(OutboxEvent.sequence))
                .limit(limit)
            )
        ).scalars()
        last = await session.scalar(
            sa.select(col(OutboxCounter.last)).where(col(OutboxCounter.name) == COUNTER)
        )
        return EventBatch(events=[EventOut.of(r) for r in rows], last_sequence=int(last or 0))

    return router
