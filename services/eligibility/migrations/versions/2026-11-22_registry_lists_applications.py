"""factory registry, lookups, factory lists and partnership applications

Revision ID: eligibility_0001
Revises:
Create Date: 2026-11-22 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "eligibility_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "factory",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("match_name", sa.String(300), nullable=False),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(120), nullable=True),
        sa.Column("products", sa.JSON, nullable=True),
        sa.Column("worker_count", sa.Integer, nullable=True),
        sa.Column("female_worker_share", sa.Float, nullable=True),
        sa.Column("operating_since", sa.Date, nullable=True),
        sa.Column("has_export_license", sa.Boolean, nullable=True),
        sa.Column("in_export_processing_zone", sa.Boolean, nullable=True),
        sa.Column("in_industrial_park", sa.Boolean, nullable=True),
        sa.Column("is_subcontractor", sa.Boolean, nullable=True),
        sa.Column("export_markets", sa.JSON, nullable=True),
        sa.Column("os_id", sa.String(64), nullable=True),
        sa.Column("enrolment_status", sa.String(16), nullable=False),
        sa.Column("enrolled_at", moment(), nullable=True),
        sa.Column("withdrawn_at", moment(), nullable=True),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("updated_at", moment(), nullable=False),
        sa.UniqueConstraint("country", "match_name", name="uq_factory_country_match_name"),
        sa.UniqueConstraint("os_id", name="uq_factory_os_id"),
    )
    op.create_index("ix_factory_country", "factory", ["country", "id"])

    op.create_table(
        "factory_lookup",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "factory_id",
            sa.String(40),
            sa.ForeignKey("factory.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("org", sa.String(300), nullable=False),
        sa.Column("user_id", sa.String(300), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("looked_up_at", moment(), nullable=False),
    )
    op.create_index("ix_factory_lookup_factory_id", "factory_lookup", ["factory_id", "id"])

    op.create_table(
        "factory_list",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("owner_org", sa.String(300), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source_format", sa.String(8), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("countries", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("started_at", moment(), nullable=True),
        sa.Column("completed_at", moment(), nullable=True),
    )
    op.create_index("ix_factory_list_owner_org", "factory_list", ["owner_org", "id"])

    op.create_table(
        "factory_list_chunk",
        sa.Column(
            "list_id",
            sa.String(40),
            sa.ForeignKey("factory_list.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chunk", sa.Integer, primary_key=True),
        sa.Column("first_row", sa.Integer, nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("rows_gz", sa.LargeBinary, nullable=False),
    )

    op.create_table(
        "partnership_application",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("org", sa.String(300), nullable=False),
        sa.Column("submitted_by", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("registration", sa.JSON, nullable=False),
        sa.Column("logo_reference", sa.String(500), nullable=False),
        sa.Column("factory_list_id", sa.String(40), nullable=True),
        sa.Column("commitments", sa.JSON, nullable=False),
        sa.Column("ilo_outcome", sa.String(10), nullable=False),
        sa.Column("ilo_note", sa.String(4000), nullable=True),
        sa.Column("ilo_recorded_by", sa.String(300), nullable=True),
        sa.Column("ilo_recorded_at", moment(), nullable=True),
        sa.Column("ifc_outcome", sa.String(10), nullable=False),
        sa.Column("ifc_note", sa.String(4000), nullable=True),
        sa.Column("ifc_recorded_by", sa.String(300), nullable=True),
        sa.Column("ifc_recorded_at", moment(), nullable=True),
        sa.Column("rejection_reason", sa.String(300), nullable=True),
        sa.Column("approved_at", moment(), nullable=True),
        sa.Column("agreement_signed_at", moment(), nullable=True),
        sa.Column("agreement_signed_on", sa.Date, nullable=True),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("updated_at", moment(), nullable=False),
    )
    op.create_index("ix_partnership_application_org", "partnership_application", ["org", "id"])


def downgrade() -> None:
    op.drop_table("partnership_application")
    op.drop_table("factory_list_chunk")
    op.drop_table("factory_list")
    op.drop_table("factory_lookup")
    op.drop_table("factory")
