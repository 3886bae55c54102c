"""list_jobs: factory-list scoping as a durable job any process can finish

A list's uploaded rows are stored (factory_list_upload) and the list carries a lease (who
scopes it, until when, how many took it), so a list whose process died is finished by
another. Lists left queued or running before this revision have no stored rows: the first
process to take one marks it failed ("upload it again"), as the start-up sweep used to.

Revision ID: eligibility_list_jobs
Revises: eligibility_0002
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "eligibility_list_jobs"
down_revision: str | None = "eligibility_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("factory_list") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(80), nullable=True))
        batch.add_column(sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    # The job sweep looks for unfinished lists only: a partial index keeps that cheap.
    op.create_index(
        "ix_factory_list_unfinished",
        "factory_list",
        ["created_at"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
        sqlite_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_table(
        "factory_list_upload",
        sa.Column(
            "list_id",
            sa.String(40),
            sa.ForeignKey("factory_list.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("principal", sa.JSON(), nullable=False),
        sa.Column("rows_gz", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("factory_list_upload")
    op.drop_index("ix_factory_list_unfinished", table_name="factory_list")
    with op.batch_alter_table("factory_list") as batch:
        batch.drop_column("attempts")
        batch.drop_column("leased_until")
        batch.drop_column("lease_holder")
