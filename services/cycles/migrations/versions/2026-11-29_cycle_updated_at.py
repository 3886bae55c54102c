"""cycles: cycle.updated_at (changes a factory and its buyers may see) and
cycle.changed_at (every change, advisors), for `updated_since`; existing cycles start at
their opening

Revision ID: cycles_updated_at
Revises: cycles_milestone_alerts
Create Date: 2026-11-29 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cycles_updated_at"
down_revision: str | None = "cycles_milestone_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cycle", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cycle", sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE cycle SET updated_at = opened_at, changed_at = opened_at")


def downgrade() -> None:
    with op.batch_alter_table("cycle") as batch:
        batch.drop_column("changed_at")
        batch.drop_column("updated_at")
