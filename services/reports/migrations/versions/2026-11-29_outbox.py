"""reports: the transactional outbox (shared.outbox): its events and their counter

Revision ID: reports_outbox
Revises: 4c8d2a7e5b10
Create Date: 2026-11-29 05:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared import outbox

revision: str = "reports_outbox"
down_revision: str | None = "4c8d2a7e5b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    outbox.create_tables()


def downgrade() -> None:
    op.drop_table("outbox_counter")
    op.drop_table("outbox_event")
