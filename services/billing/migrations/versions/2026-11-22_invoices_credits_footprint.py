"""invoices, credit ledger and partner footprint

Revision ID: billing_0001
Revises:
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from shared.idempotency import create_table as create_idempotency_table
from shared.idempotency import drop_table as drop_idempotency_table

revision: str = "billing_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def money(precision: int = 12) -> sa.types.TypeEngine[Any]:
    # Exact on both: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float).
    return sa.Numeric(precision, 2).with_variant(sa.String(precision + 2), "sqlite")


def moment() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def partial_unique(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        table,
        columns,
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    create_idempotency_table()

    op.create_table(
        "invoice",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("org", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("price_book_year", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", money(), nullable=False),
        sa.Column("report_cycles", sa.Integer, nullable=True),
        sa.Column("unit_price", money(), nullable=True),
        sa.Column("apparel_revenue_usd", money(18), nullable=True),
        sa.Column("factory_count", sa.Integer, nullable=True),
        sa.Column("revenue_tier", sa.String(8), nullable=True),
        sa.Column("footprint_tier", sa.Integer, nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("paid_amount", money(), nullable=True),
        sa.Column("paid_at", moment(), nullable=True),
        sa.Column("paid_by", sa.String(255), nullable=True),
        sa.Column("payment_reference", sa.String(255), nullable=True),
        sa.Column("voided_at", moment(), nullable=True),
        sa.Column("voided_by", sa.String(255), nullable=True),
        sa.Column("void_reason", sa.String(500), nullable=True),
        sa.CheckConstraint("kind IN ('partnership', 'credits')", name="ck_invoice_kind"),
        sa.CheckConstraint("status IN ('issued', 'paid', 'void')", name="ck_invoice_status"),
    )
    op.create_index("ix_invoice_org_id", "invoice", ["org", "id"])
    partial_unique(
        "uq_invoice_open_partnership",
        "invoice",
        ["org", "year"],
        "kind = 'partnership' AND status <> 'void'",
    )

    op.create_table(
        "invoice_line",
        sa.Column(
            "invoice_id",
            sa.String(40),
            sa.ForeignKey("invoice.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", money(), nullable=False),
        sa.Column("amount", money(), nullable=False),
    )

    op.create_table(
        "credit_account",
        sa.Column("org", sa.String(255), primary_key=True),
        sa.Column("balance", sa.Integer, nullable=False),
        sa.Column("updated_at", moment(), nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_credit_account_balance"),
    )

    op.create_table(
        "credit_entry",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("org", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("balance_after", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('purchase', 'spend', 'refund', 'adjustment')", name="ck_credit_entry_kind"
        ),
    )
    op.create_index("ix_credit_entry_org_id", "credit_entry", ["org", "id"])
    for kind in ("purchase", "spend", "refund"):
        partial_unique(
            f"uq_credit_entry_{kind}", "credit_entry", ["org", "reference"], f"kind = '{kind}'"
        )

    op.create_table(
        "partner_footprint",
        sa.Column("org", sa.String(255), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("footprint", sa.Integer, nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        sa.Column("set_at", moment(), nullable=False),
        sa.CheckConstraint("used >= 0 AND used <= footprint", name="ck_partner_footprint_used"),
    )

    op.create_table(
        "footprint_claim",
        sa.Column("org", sa.String(255), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("factory_id", sa.String(255), primary_key=True),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("footprint_claim")
    op.drop_table("partner_footprint")
    op.drop_index("uq_credit_entry_refund", table_name="credit_entry")
    op.drop_index("uq_credit_entry_spend", table_name="credit_entry")
    op.drop_index("uq_credit_entry_purchase", table_name="credit_entry")
    op.drop_index("ix_credit_entry_org_id", table_name="credit_entry")
    op.drop_table("credit_entry")
    op.drop_table("credit_account")
    op.drop_table("invoice_line")
    op.drop_index("uq_invoice_open_partnership", table_name="invoice")
    op.drop_index("ix_invoice_org_id", table_name="invoice")
    op.drop_table("invoice")
    drop_idempotency_table()
