"""nominations: a partner brand's recorded nomination of a registry factory

A new table only; existing rows are untouched. Decisions made before this revision used the
caller's `nominated_by_partner` alone; from now on a decision without it reads these
records (none yet, so a matched registry factory starts as `needs_nomination` until a
partner nominates it). Stored factory-list results keep the decisions made at upload.

Revision ID: eligibility_0002
Revises: eligibility_outbox
Create Date: 2026-11-29 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "eligibility_0002"
down_revision: str | None = "eligibility_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nomination",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "factory_id",
            sa.String(40),
            sa.ForeignKey("factory.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("partner_org", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("nominated_by", sa.String(300), nullable=False),
        sa.Column("withdrawn_by", sa.String(300), nullable=True),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("updated_at", moment(), nullable=False),
        sa.Column("withdrawn_at", moment(), nullable=True),
    )
    op.create_index("ix_nomination_factory_id", "nomination", ["factory_id", "id"])
    op.create_index("ix_nomination_partner_org", "nomination", ["partner_org", "id"])
    # One active nomination per partner and factory; withdrawn ones stay on record.
    op.create_index(
        "uq_nomination_active",
        "nomination",
        ["factory_id", "partner_org"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_table("nomination")
