"""cycles: milestone alerts (the durable rows of the time-based milestone events)

Existing cycles get their rows from the scheduler's first run (alerts.plan_missing), not
here: planning needs the schedule code, which a migration must not import.

Revision ID: cycles_milestone_alerts
Revises: cycles_outbox
Create Date: 2026-11-29 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cycles_milestone_alerts"
down_revision: str | None = "cycles_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "milestone_alert",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("cycle_id", sa.String(40), sa.ForeignKey("cycle.id"), nullable=False),
        sa.Column("milestone", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("fire_on", sa.Date, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.UniqueConstraint("cycle_id", "milestone", "kind", name="uq_milestone_alert"),
    )
    op.create_index("ix_milestone_alert_pending", "milestone_alert", ["fire_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_milestone_alert_pending", "milestone_alert")
    op.drop_table("milestone_alert")
