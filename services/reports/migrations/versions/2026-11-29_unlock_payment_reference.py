"""reports: numbered unlock attempts, each paying with its own billing reference

An active unlock records the reference of the charge behind it (the unlock id for the
unlocks made so far: they paid with it). A pending unlock left by the old saga becomes
attempt 0 (whose reference is the unlock id) with nothing known cancelled, so the next
attempt cancels that reference in billing before it pays with its own.

Revision ID: reports_0003
Revises: 9b2e4f6a1c03
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reports_0003"
down_revision: str | None = "9b2e4f6a1c03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("unlock", sa.Column("payment_reference", sa.String(64), nullable=True))
    op.add_column("unlock", sa.Column("attempt_no", sa.Integer, nullable=False, server_default="0"))
    op.add_column(
        "unlock", sa.Column("cancelled_through", sa.Integer, nullable=False, server_default="0")
    )
    op.execute("UPDATE unlock SET payment_reference = id WHERE status = 'active'")
    op.execute(
        "UPDATE unlock SET attempt_no = 0, cancelled_through = -1, attempt_started_at = NULL "
        "WHERE status = 'pending'"
    )
    with op.batch_alter_table("unlock") as batch:
        batch.drop_column("attempt_id")
    op.create_index(
        "ix_unlock_pending",
        "unlock",
        ["attempt_started_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_unlock_pending", table_name="unlock")
    with op.batch_alter_table("unlock") as batch:
        batch.add_column(sa.Column("attempt_id", sa.String(40), nullable=True))
        batch.drop_column("cancelled_through")
        batch.drop_column("attempt_no")
        batch.drop_column("payment_reference")
