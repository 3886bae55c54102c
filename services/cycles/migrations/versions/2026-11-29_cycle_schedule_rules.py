"""cycles: the schedule rule version each cycle was opened with

Table 2 puts the assessment and its report at the "end month 4"; the schedule so far let
the assessment run to the end of month 5. New rule data (services/cycles/rules/
cycle_2026-11-29.json) ends the assessment window at the end of month 4, and each cycle now
stores the version of the rule data it was scheduled with (`schedule_rules`), from which its
plan is always recomputed.

Existing cycles keep their schedule: every cycle already opened is marked with the version
it was scheduled with, `2024-01-01` (rules/cycle_2024-01-01.json, kept unchanged: assessment
window start + 90 days to the end of month 5), so its windows, due dates, milestone statuses
and the visits already planned in it stay as they were. Only cycles opened after this
revision get the current version. Downgrading drops the column; the code of that time knew
only the 2024-01-01 schedule, which is what the old cycles have anyway.

Revision ID: c7c1e5a0b002
Revises: cycles_updated_at
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7c1e5a0b002"
down_revision: str | None = "cycles_updated_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_VERSION = "2024-01-01"


def upgrade() -> None:
    # The server default fills the existing rows; it is dropped at once, so a new cycle
    # must name its version (the application always does).
    with op.batch_alter_table("cycle") as batch:
        batch.add_column(
            sa.Column(
                "schedule_rules",
                sa.String(10),
                nullable=False,
                server_default=LEGACY_VERSION,
            )
        )
    with op.batch_alter_table("cycle") as batch:
        batch.alter_column("schedule_rules", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("cycle") as batch:
        batch.drop_column("schedule_rules")
