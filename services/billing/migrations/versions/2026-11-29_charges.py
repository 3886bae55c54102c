"""charges: one row per payment attempt of an unlock, replacing footprint_claim

Every spend of the ledger becomes a credit charge (`released` when it was refunded, else
`held`), and every footprint claim a held footprint charge with the claim's reference, so
the reconciliation audit finds the old unlocks paid for exactly as the new ones.

Revision ID: billing_0002
Revises: billing_0001
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "billing_0002"
down_revision: str | None = "billing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD_FOOTPRINT = "kind = 'footprint' AND state = 'held'"


def upgrade() -> None:
    op.create_table(
        "charge",
        sa.Column("org", sa.String(255), primary_key=True),
        sa.Column("reference", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("factory_id", sa.String(255), nullable=False),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('credit', 'footprint')", name="ck_charge_kind"),
        sa.CheckConstraint("state IN ('held', 'released', 'cancelled')", name="ck_charge_state"),
    )
    op.create_index(
        "ix_charge_footprint_held",
        "charge",
        ["org", "year", "factory_id"],
        postgresql_where=sa.text(HELD_FOOTPRINT),
        sqlite_where=sa.text(HELD_FOOTPRINT),
    )
    op.create_index("ix_charge_state", "charge", ["state", "org", "reference"])
    # The old spends did not record their factory; the reason named it, the audit does not
    # need it (a credit is a credit), so it stays unknown.
    op.execute(
        """
        INSERT INTO charge (org, reference, kind, factory_id, year, state, created_at, updated_at)
        SELECT s.org, s.reference, 'credit', 'unknown', NULL,
               CASE WHEN r.id IS NULL THEN 'held' ELSE 'released' END,
               s.created_at, COALESCE(r.created_at, s.created_at)
        FROM credit_entry s
        LEFT JOIN credit_entry r
          ON r.org = s.org AND r.reference = s.reference AND r.kind = 'refund'
        WHERE s.kind = 'spend'
        """
    )
    op.execute(
        """
        INSERT INTO charge (org, reference, kind, factory_id, year, state, created_at, updated_at)
        SELECT org, reference, 'footprint', factory_id, year, 'held', created_at, created_at
        FROM footprint_claim
        """
    )
    op.drop_table("footprint_claim")


def downgrade() -> None:
    op.create_table(
        "footprint_claim",
        sa.Column("org", sa.String(255), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("factory_id", sa.String(255), primary_key=True),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        """
        INSERT INTO footprint_claim (org, year, factory_id, reference, created_at)
        SELECT org, year, factory_id, MIN(reference), MIN(created_at)
        FROM charge WHERE kind = 'footprint' AND state = 'held'
        GROUP BY org, year, factory_id
        """
    )
    op.drop_index("ix_charge_state", table_name="charge")
    op.drop_index("ix_charge_footprint_held", table_name="charge")
    op.drop_table("charge")
