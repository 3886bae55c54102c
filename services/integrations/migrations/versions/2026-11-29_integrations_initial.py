"""integrations: source cursors, the feed and its audiences

Revision ID: integrations_0001
Revises:
Create Date: 2026-11-29 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "integrations_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_cursor",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "feed_counter",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "feed_event",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("source", "sequence", name="uq_feed_event_source_sequence"),
    )
    op.create_index("ix_feed_event_received_at", "feed_event", ["received_at"])
    op.create_table(
        "feed_audience",
        sa.Column("audience", sa.String(140), primary_key=True),
        sa.Column(
            "position",
            sa.BigInteger,
            sa.ForeignKey("feed_event.position", ondelete="CASCADE"),
            primary_key=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("feed_audience")
    op.drop_table("feed_event")
    op.drop_table("feed_counter")
    op.drop_table("source_cursor")
