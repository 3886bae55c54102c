"""Tables of the integrations service: where it is in each source's event stream, the
events it has taken in (in one feed order), and who may see each."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.sqltypes import UtcDateTime

__all__ = ["TABLES", "FeedAudience", "FeedCounter", "FeedEvent", "SourceCursor"]


class SourceCursor(SQLModel, table=True):
    """One row per source service: the last sequence taken in, and which process holds the
    lease to pull it (one puller per source at a time, across replicas)."""

    __tablename__ = "source_cursor"

    source: str = Field(primary_key=True, max_length=32)
    last_sequence: int = Field(default=0, sa_type=sa.BigInteger)
    lease_owner: str | None = Field(default=None, max_length=64)
    leased_until: datetime | None = Field(default=None, sa_type=UtcDateTime)


class FeedCounter(SQLModel, table=True):
    """The feed's position counter: taken under its row lock until commit, so positions
    are dense and become visible in order (as `shared.outbox` does for sources)."""

    __tablename__ = "feed_counter"

    name: str = Field(primary_key=True, max_length=16)
    last: int = Field(default=0, sa_type=sa.BigInteger)


class FeedEvent(SQLModel, table=True):
    __tablename__ = "feed_event"
    __table_args__ = (
        sa.UniqueConstraint("source", "sequence", name="uq_feed_event_source_sequence"),
        sa.Index("ix_feed_event_received_at", "received_at"),
    )

    position: int = Field(
        primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    id: str = Field(max_length=40, unique=True)
    source: str = Field(max_length=32)
    sequence: int = Field(sa_type=sa.BigInteger)
    type: str = Field(max_length=80)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=128)
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    received_at: datetime = Field(sa_type=UtcDateTime)
    body: str = Field(sa_type=sa.Text)  # the event exactly as the feed and webhooks show it


class FeedAudience(SQLModel, table=True):
    """Who may see an event: `org:<id>` (a buyer or factory organisation) or
    `country:<ISO>` / `country:*` (advisors of that programme / every advisor)."""

    __tablename__ = "feed_audience"

    audience: str = Field(primary_key=True, max_length=140)
    position: int = Field(
        primary_key=True,
        sa_type=sa.BigInteger,
        foreign_key="feed_event.position",
        ondelete="CASCADE",
    )


TABLES: list[type[SQLModel]] = [SourceCursor, FeedCounter, FeedEvent, FeedAudience]
