"""integrations: the brand portfolio read model

Revision ID: integrations_portfolio
Revises: integrations_audience_sequence
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "integrations_portfolio"
down_revision: str | None = "integrations_audience_sequence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portfolio_factory",
        sa.Column("factory_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("os_id", sa.String(64), nullable=True),
        sa.Column("enrolment_status", sa.String(16), nullable=True),
        sa.Column("high_performing", sa.Boolean, nullable=True),
        sa.Column("classification_orgs", sa.JSON, nullable=False),
        sa.Column("cycle", sa.Integer, nullable=True),
        sa.Column("cycle_id", sa.String(40), nullable=True),
        sa.Column("milestones", sa.JSON, nullable=False),
        sa.Column("released", sa.JSON, nullable=False),
        sa.Column("assessment_cycle", sa.Integer, nullable=True),
        sa.Column("assessment_released_at", WHEN, nullable=True),
        sa.Column("findings_all", sa.JSON, nullable=True),
        sa.Column("findings_public", sa.JSON, nullable=True),
        sa.Column("as_of", WHEN, nullable=False),
        sa.Column("advisors_as_of", WHEN, nullable=False),
    )
    op.create_index("ix_portfolio_factory_country", "portfolio_factory", ["country"])
    op.create_table(
        "portfolio_relation",
        sa.Column("org", sa.String(128), primary_key=True),
        sa.Column("factory_id", sa.String(40), primary_key=True),
        sa.Column("tpa_state", sa.String(16), nullable=True),
        sa.Column("unlocked", sa.JSON, nullable=False),
        sa.Column("shared", sa.JSON, nullable=False),
        sa.Column("nominated", sa.Boolean, nullable=False),
        sa.Column("as_of", WHEN, nullable=False),
    )
    op.create_index("ix_portfolio_relation_factory", "portfolio_relation", ["factory_id"])
    op.create_table(
        "portfolio_row",
        sa.Column("viewer", sa.String(128), primary_key=True),
        sa.Column("factory_id", sa.String(40), primary_key=True),
        sa.Column("name_key", sa.String(300), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("os_id", sa.String(64), nullable=True),
        sa.Column("enrolment_status", sa.String(16), nullable=True),
        sa.Column("relations", sa.JSON, nullable=False),
        sa.Column("tpa_state", sa.String(16), nullable=True),
        sa.Column("cycle", sa.Integer, nullable=True),
        sa.Column("milestones", sa.JSON, nullable=True),
        sa.Column("overdue", sa.Boolean, nullable=False),
        sa.Column("unlocked_cycles", sa.JSON, nullable=False),
        sa.Column("latest_assessment_at", WHEN, nullable=True),
        sa.Column("findings_basis", sa.String(8), nullable=True),
        sa.Column("findings", sa.JSON, nullable=True),
        sa.Column("high_performing", sa.Boolean, nullable=True),
        sa.Column("as_of", WHEN, nullable=False),
    )
    op.create_index("ix_portfolio_row_name", "portfolio_row", ["viewer", "name_key", "factory_id"])
    op.create_index("ix_portfolio_row_as_of", "portfolio_row", ["viewer", "as_of", "factory_id"])
    op.create_index(
        "ix_portfolio_row_country", "portfolio_row", ["viewer", "country", "factory_id"]
    )


def downgrade() -> None:
    op.drop_table("portfolio_row")
    op.drop_table("portfolio_relation")
    op.drop_table("portfolio_factory")
