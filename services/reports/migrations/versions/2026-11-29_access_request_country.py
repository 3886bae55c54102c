"""reports: the factory's country on a third-party access request (advisor scope)

Revision ID: 4c8d2a7e5b10
Revises: reports_0003
Create Date: 2026-11-29 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4c8d2a7e5b10"
down_revision: str | None = "reports_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("access_request", sa.Column("country", sa.String(2), nullable=True))
    op.create_index("ix_access_request_country_id", "access_request", ["country", "id"])
    # Requests on a factory with a report cycle take the country the cycle copied from the
    # registry; the others stay NULL (only advisors of every programme see them) until the
    # buyer asks again, which copies the registry's country.
    op.execute(
        """
        UPDATE access_request SET country = (
            SELECT report_cycle.country FROM report_cycle
            WHERE report_cycle.factory_id = access_request.factory_id
            ORDER BY report_cycle.cycle DESC LIMIT 1
        )
        WHERE country IS NULL
        """
    )


def downgrade() -> None:
    op.drop_index("ix_access_request_country_id", table_name="access_request")
    with op.batch_alter_table("access_request") as batch:
        batch.drop_column("country")
