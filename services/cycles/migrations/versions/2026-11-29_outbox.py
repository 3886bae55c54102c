"""cycles: the transactional outbox (shared.outbox): its events and their counter

Revision ID: cycles_outbox
Revises: c7c1e5a0b001
Create Date: 2026-11-29 05:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared import outbox

revision: str = "cycles_outbox"
down_revision: str | None = "c7c1e5a0b001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    outbox.create_tables()


def downgrade() -> None:
    op.drop_table("outbox_counter")
    op.drop_table("outbox_event")
