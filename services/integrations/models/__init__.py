"""Tables of the integrations service: where it is in each source's event stream, the
events it has taken in (in one feed order), and who may see each."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from services.integrations.models.portfolio import PORTFOLIO_TABLES
from shared.sqltypes import UtcDateTime

__all__ = [
    "TABLES",
    "FeedAudience",
    "FeedCounter",
    "FeedEvent",
    "SourceCursor",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]


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

    # "feed", "integrations" (this service's own stream), or an organisation's audience key
    # ("org:<id>"): each organisation's feed is numbered 1, 2, 3, ... without gaps.
    name: str = Field(primary_key=True, max_length=140)
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
    `country:<ISO>` / `country:*` (advisors of that programme / every advisor).

    `sequence` numbers an organisation's events without gaps (its feed's own counter): an
    organisation sees that number, never the source's, whose gaps would count the events
    it may not see. Advisors' rows have none: they see the source's sequence, which has
    gaps for them (their scope is any set of countries, so no one counter could number it
    without gaps); they detect missed events by paging the feed, not by this number."""

    __tablename__ = "feed_audience"

    audience: str = Field(primary_key=True, max_length=140)
    position: int = Field(
        primary_key=True,
        sa_type=sa.BigInteger,
        foreign_key="feed_event.position",
        ondelete="CASCADE",
    )
    sequence: int | None = Field(default=None, sa_type=sa.BigInteger)


class WebhookEndpoint(SQLModel, table=True):
    """A receiver registered by an organisation. `audiences` are the feed audience keys its
    owner matched when registering it (what its deliveries may carry); `scanned_position`
    is the last feed position fanned out to it (deliveries are made for positions after)."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (sa.Index("ix_webhook_endpoint_org", "org"),)

    id: str = Field(primary_key=True, max_length=40)
    org: str = Field(max_length=128)
    role: str = Field(max_length=16)
    audiences: str = Field(sa_type=sa.Text)  # JSON list of audience keys ("country:" = all)
    url: str = Field(max_length=2048)
    description: str = Field(default="", max_length=500)
    event_types: str = Field(default="[]", sa_type=sa.Text)  # JSON list; empty = every type
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    # Since when its attempts fail (none: healthy). The first success after clears it and
    # makes the retries waiting in its backlog due at once: a receiver that comes back gets
    # everything it missed now, not at each delivery's next scheduled retry.
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # While it fails, when it may next be probed (`jobs.delivery.probe`): one waiting
    # delivery tried early, so it comes back without waiting for new events or a retry.
    probe_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Kept in clear: an HMAC needs the key itself (the spec's symmetric signatures).
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    scanned_position: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event to deliver to one endpoint: the durable unit of work. A worker claims due
    rows (`FOR UPDATE SKIP LOCKED`) by pushing `next_attempt_at` past its lease and writing
    itself into `lease_owner`; the result is written only if it still holds the row."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "position", name="uq_webhook_delivery_endpoint_pos"),
        sa.Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(
        default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer, "sqlite")
    )
    endpoint_id: str = Field(max_length=40, foreign_key="webhook_endpoint.id", ondelete="CASCADE")
    position: int = Field(sa_type=sa.BigInteger)
    event_id: str = Field(max_length=40)
    state: str = Field(default="pending", max_length=16)  # pending, succeeded, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    lease_owner: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery, as the endpoint's owner reads it."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (sa.Index("ix_webhook_attempt_endpoint", "endpoint_id", "id"),)

    id: int | None = Field(
        default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer, "sqlite")
    )
    endpoint_id: str = Field(max_length=40, foreign_key="webhook_endpoint.id", ondelete="CASCADE")
    delivery_id: int = Field(sa_type=sa.BigInteger)
    event_id: str = Field(max_length=40)
    attempt: int
    status_code: int | None = None
    latency_ms: int
    error: str | None = Field(default=None, max_length=500)
    next_retry_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)


TABLES: list[type[SQLModel]] = [
    SourceCursor,
    FeedCounter,
    FeedEvent,
    FeedAudience,
    WebhookEndpoint,
    WebhookDelivery,
    WebhookAttempt,
    *PORTFOLIO_TABLES,
]
