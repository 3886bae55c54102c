"""reports: the attempt that runs a pending unlock's saga (one at a time)

Revision ID: 9b2e4f6a1c03
Revises: 7f3a1c2d9e01
Create Date: 2026-11-22 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b2e4f6a1c03"
down_revision: str | None = "7f3a1c2d9e01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("unlock", sa.Column("attempt_id", sa.String(40), nullable=True))
    op.add_column(
        "unlock", sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("unlock") as batch:
        batch.drop_column("attempt_started_at")
        batch.drop_column("attempt_id")
