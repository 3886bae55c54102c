"""integrations: each organisation's feed numbered on its own; endpoints' failing_since

An endpoint's `failing_since` marks a receiver that is down, so its first success brings
its waiting retries forward.

An organisation used to see its events' source sequence, whose gaps counted the events it
may not see. Existing rows are numbered per organisation in feed order, and the counters
(`feed_counter` rows named by audience key, hence the wider name) start after them.

Revision ID: integrations_audience_sequence
Revises: integrations_0002
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "integrations_audience_sequence"
down_revision: str | None = "integrations_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoint") as table:
        table.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("feed_audience") as table:
        table.add_column(sa.Column("sequence", sa.BigInteger, nullable=True))
    with op.batch_alter_table("feed_counter") as table:
        table.alter_column("name", type_=sa.String(140), existing_type=sa.String(16))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT audience, position FROM feed_audience WHERE audience LIKE 'org:%' "
            "ORDER BY audience, position"
        )
    ).all()
    last: dict[str, int] = {}
    for audience, position in rows:
        last[audience] = last.get(audience, 0) + 1
        bind.execute(
            sa.text("UPDATE feed_audience SET sequence = :n WHERE audience = :a AND position = :p"),
            {"n": last[audience], "a": audience, "p": position},
        )
    for audience, number in last.items():
        bind.execute(
            sa.text("INSERT INTO feed_counter (name, last) VALUES (:a, :n)"),
            {"a": audience, "n": number},
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoint") as table:
        table.drop_column("failing_since")
    op.execute("DELETE FROM feed_counter WHERE name LIKE 'org:%'")
    with op.batch_alter_table("feed_counter") as table:
        table.alter_column("name", type_=sa.String(16), existing_type=sa.String(140))
    with op.batch_alter_table("feed_audience") as table:
        table.drop_column("sequence")
