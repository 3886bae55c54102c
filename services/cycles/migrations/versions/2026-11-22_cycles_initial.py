"""cycles: cycles, visits, training, seminars, classification, idempotency

Revision ID: c7c1e5a0b001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared import idempotency

revision: str = "c7c1e5a0b001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cycle",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("factory_id", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("assessment_skipped", sa.Boolean, nullable=False),
        sa.Column("training_participant_days", sa.Integer, nullable=False),
        sa.Column("released_documents", sa.JSON, nullable=False),
        sa.Column("opened_by", sa.String(255), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.UniqueConstraint("factory_id", "number", name="uq_cycle_factory_number"),
    )
    op.create_index("ix_cycle_factory_id", "cycle", ["factory_id"])

    op.create_table(
        "visit",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("cycle_id", sa.String(40), sa.ForeignKey("cycle.id"), nullable=False),
        sa.Column("factory_id", sa.String(255), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("assessors", sa.JSON, nullable=False),
        sa.Column("note", sa.String(4000), nullable=True),
        sa.Column("buyer_org", sa.String(255), nullable=True),
        sa.Column("shadow_slot", sa.String(600), nullable=True),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("completed_by", sa.String(255), nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
    )
    op.create_index("ix_visit_cycle_id", "visit", ["cycle_id"])
    op.create_index("ix_visit_buyer_org", "visit", ["buyer_org"])
    op.create_index("ix_visit_shadow_slot", "visit", ["shadow_slot"], unique=True)

    op.create_table(
        "training_booking",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("cycle_id", sa.String(40), sa.ForeignKey("cycle.id"), nullable=False),
        sa.Column("course", sa.String(200), nullable=False),
        sa.Column("participants", sa.Integer, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("participant_days", sa.Integer, nullable=False),
        sa.Column("booked_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_training_booking_cycle_id", "training_booking", ["cycle_id"])

    op.create_table(
        "training_purchase",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("cycle_id", sa.String(40), sa.ForeignKey("cycle.id"), nullable=False),
        sa.Column("participant_days", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("purchased_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_training_purchase_cycle_id", "training_purchase", ["cycle_id"])

    op.create_table(
        "seminar",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("duration", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_seminar_country", "seminar", ["country"])

    op.create_table(
        "seminar_registration",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("seminar_id", sa.String(40), sa.ForeignKey("seminar.id"), nullable=False),
        sa.Column("factory_id", sa.String(255), nullable=False),
        sa.Column("participants", sa.Integer, nullable=False),
        sa.Column("registered_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("seminar_id", "factory_id", name="uq_registration_seminar_factory"),
    )
    op.create_index("ix_seminar_registration_seminar_id", "seminar_registration", ["seminar_id"])

    op.create_table(
        "seminar_action_plan",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("seminar_id", sa.String(40), sa.ForeignKey("seminar.id"), nullable=False),
        sa.Column(
            "registration_id",
            sa.String(40),
            sa.ForeignKey("seminar_registration.id"),
            nullable=False,
        ),
        sa.Column("factory_id", sa.String(255), nullable=False),
        sa.Column("cycle_number", sa.Integer, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("recorded_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index(
        "ix_seminar_action_plan_registration_id", "seminar_action_plan", ["registration_id"]
    )

    op.create_table(
        "classification",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("factory_id", sa.String(255), nullable=False),
        sa.Column("high_performing", sa.Boolean, nullable=False),
        sa.Column("cycles", sa.JSON, nullable=False),
        sa.Column("criteria", sa.JSON, nullable=False),
        sa.Column("classified_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_classification_factory_id", "classification", ["factory_id"])

    idempotency.create_table()


def downgrade() -> None:
    idempotency.drop_table()
    for table in (
        "classification",
        "seminar_action_plan",
        "seminar_registration",
        "seminar",
        "training_purchase",
        "training_booking",
        "visit",
        "cycle",
    ):
        op.drop_table(table)
