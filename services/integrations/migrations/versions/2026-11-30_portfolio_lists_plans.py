"""integrations: the portfolio's listed factories, eligibility decisions and plan items

Existing rows get empty values; `python -m services.integrations.cli` (the rebuild) fills
them from the event history.

Revision ID: integrations_portfolio_lists
Revises: integrations_portfolio
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "integrations_portfolio_lists"
down_revision: str | None = "integrations_portfolio"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server defaults fill the existing rows and are dropped at once (the application
    # always writes the columns).
    filled = {
        ("portfolio_factory", "plan_items"): (sa.JSON, "'{}'"),
        ("portfolio_relation", "lists"): (sa.JSON, "'[]'"),
        ("portfolio_row", "listed"): (sa.Boolean, "false"),
    }
    for (table, column), (kind, empty) in filled.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, kind, nullable=False, server_default=sa.text(empty)))
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, server_default=None)
    op.add_column("portfolio_relation", sa.Column("eligibility_status", sa.String(20)))
    op.add_column("portfolio_row", sa.Column("eligibility_status", sa.String(20)))
    op.add_column("portfolio_row", sa.Column("plan_due", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("portfolio_row", "plan_due")
    op.drop_column("portfolio_row", "eligibility_status")
    op.drop_column("portfolio_row", "listed")
    op.drop_column("portfolio_relation", "eligibility_status")
    op.drop_column("portfolio_relation", "lists")
    op.drop_column("portfolio_factory", "plan_items")
