"""reports: report cycles, documents, improvement plans, TPA, unlocks, shares, memberships,
notifications, zero-tolerance alerts, transparency portal, idempotency records

Revision ID: 7f3a1c2d9e01
Revises:
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.idempotency import create_table, drop_table

revision: str = "7f3a1c2d9e01"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 40
EXTERNAL = 128


def _moment(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    create_table()
    op.create_table(
        "report_cycle",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("opened_by", sa.String(EXTERNAL), nullable=False),
        _moment("opened_at"),
        sa.UniqueConstraint("factory_id", "cycle", name="uq_report_cycle_number"),
    )
    op.create_table(
        "report_document",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "report_cycle_id", sa.String(ID), sa.ForeignKey("report_cycle.id"), nullable=False
        ),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author_org", sa.String(EXTERNAL), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        _moment("submitted_at", nullable=True),
        _moment("released_at", nullable=True),
    )
    op.create_index("ix_report_document_report_cycle_id", "report_document", ["report_cycle_id"])
    op.create_index(
        "uq_report_document_single_kind",
        "report_document",
        ["report_cycle_id", "kind"],
        unique=True,
        postgresql_where=sa.text("kind <> 'advisory_log'"),
        sqlite_where=sa.text("kind <> 'advisory_log'"),
    )
    op.create_table(
        "assessment_finding",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "document_id",
            sa.String(ID),
            sa.ForeignKey("report_document.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("cluster", sa.String(100), nullable=False),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("publicly_reported", sa.Boolean, nullable=False),
        sa.Column("compliant", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_assessment_finding_document_id", "assessment_finding", ["document_id"])
    op.create_table(
        "improvement_plan_item",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "report_cycle_id", sa.String(ID), sa.ForeignKey("report_cycle.id"), nullable=False
        ),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("finding_id", sa.String(ID), nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
    )
    op.create_index(
        "ix_improvement_plan_item_report_cycle_id", "improvement_plan_item", ["report_cycle_id"]
    )
    op.create_table(
        "improvement_plan_event",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "item_id", sa.String(ID), sa.ForeignKey("improvement_plan_item.id"), nullable=False
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor_org", sa.String(EXTERNAL), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        _moment("at"),
    )
    op.create_index("ix_improvement_plan_event_item_id", "improvement_plan_event", ["item_id"])
    op.create_table(
        "access_request",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("buyer_org", sa.String(EXTERNAL), nullable=False),
        sa.Column("buyer_role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(EXTERNAL), nullable=False),
        _moment("requested_at"),
        _moment("decided_at", nullable=True),
        _moment("updated_at"),
        sa.UniqueConstraint("factory_id", "buyer_org", name="uq_access_request_pair"),
    )
    op.create_index("ix_access_request_buyer_org", "access_request", ["buyer_org"])
    op.create_table(
        "unlock",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "report_cycle_id", sa.String(ID), sa.ForeignKey("report_cycle.id"), nullable=False
        ),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("buyer_org", sa.String(EXTERNAL), nullable=False),
        sa.Column("buyer_role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("charged_credits", sa.Integer, nullable=False),
        sa.Column("footprint_year", sa.Integer, nullable=True),
        sa.Column("created_by", sa.String(EXTERNAL), nullable=False),
        _moment("created_at"),
        _moment("completed_at", nullable=True),
        sa.UniqueConstraint("report_cycle_id", "buyer_org", name="uq_unlock_pair"),
    )
    op.create_index("ix_unlock_buyer_org", "unlock", ["buyer_org"])
    op.create_table(
        "report_share",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "report_cycle_id", sa.String(ID), sa.ForeignKey("report_cycle.id"), nullable=False
        ),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("from_org", sa.String(EXTERNAL), nullable=False),
        sa.Column("with_org", sa.String(EXTERNAL), nullable=False),
        sa.Column("unlock_id", sa.String(ID), sa.ForeignKey("unlock.id"), nullable=False),
        sa.Column("created_by", sa.String(EXTERNAL), nullable=False),
        _moment("created_at"),
        sa.UniqueConstraint("report_cycle_id", "from_org", "with_org", name="uq_report_share"),
    )
    op.create_index("ix_report_share_from_org", "report_share", ["from_org"])
    op.create_index("ix_report_share_recipient", "report_share", ["report_cycle_id", "with_org"])
    op.create_table(
        "portal_organisation",
        sa.Column("org", sa.String(EXTERNAL), primary_key=True),
        sa.Column("super_user", sa.String(EXTERNAL), nullable=False),
        _moment("created_at"),
    )
    op.create_table(
        "portal_membership",
        sa.Column("org", sa.String(EXTERNAL), primary_key=True),
        sa.Column("user_id", sa.String(EXTERNAL), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("super_user", sa.Boolean, nullable=False),
        _moment("created_at"),
        _moment("approved_at", nullable=True),
        sa.Column("approved_by", sa.String(EXTERNAL), nullable=True),
    )
    op.create_table(
        "report_notification",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("org", sa.String(EXTERNAL), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=True),
        sa.Column("cycle", sa.Integer, nullable=True),
        sa.Column("subject_id", sa.String(ID), nullable=True),
        _moment("created_at"),
    )
    op.create_index("ix_report_notification_org_id", "report_notification", ["org", "id"])
    op.create_table(
        "zero_tolerance_alert",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("raised_by", sa.String(EXTERNAL), nullable=False),
        _moment("raised_at"),
        sa.Column("notified_partners", sa.Integer, nullable=False),
    )
    op.create_index("ix_zero_tolerance_alert_factory_id", "zero_tolerance_alert", ["factory_id"])
    op.create_table(
        "public_factory",
        sa.Column("factory_id", sa.String(EXTERNAL), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column(
            "assessment_id", sa.String(ID), sa.ForeignKey("report_document.id"), nullable=False
        ),
        sa.Column("cycle", sa.Integer, nullable=False),
        _moment("assessment_released_at"),
    )
    op.create_index("ix_public_factory_country", "public_factory", ["country"])
    op.create_table(
        "progress_document",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("factory_id", sa.String(EXTERNAL), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(EXTERNAL), nullable=False),
        _moment("created_at"),
    )
    op.create_index("ix_progress_document_factory_id", "progress_document", ["factory_id"])


def downgrade() -> None:
    for table in (
        "progress_document",
        "public_factory",
        "zero_tolerance_alert",
        "report_notification",
        "portal_membership",
        "portal_organisation",
        "report_share",
        "unlock",
        "access_request",
        "improvement_plan_event",
        "improvement_plan_item",
        "assessment_finding",
        "report_document",
        "report_cycle",
    ):
        op.drop_table(table)
    drop_table()
