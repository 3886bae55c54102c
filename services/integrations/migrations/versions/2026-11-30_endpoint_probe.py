"""integrations: webhook endpoints' probe_at

While an endpoint's receiver is down (`failing_since`), `probe_at` says when the worker
may next try one of its waiting deliveries early (`jobs.delivery.probe`), so a receiver
that comes back gets its backlog without waiting for a new event or a scheduled retry.

Revision ID: integrations_endpoint_probe
Revises: integrations_portfolio_lists
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "integrations_endpoint_probe"
down_revision: str | None = "integrations_portfolio_lists"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoint") as table:
        table.add_column(sa.Column("probe_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoint") as table:
        table.drop_column("probe_at")
