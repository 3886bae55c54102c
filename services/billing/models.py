"""Tables of the billing service (request and response schemas are in `schemas.py`), and the
column type that keeps money exact on PostgreSQL and on SQLite alike (times in UTC:
`shared.sqltypes`)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Field, SQLModel

from shared.idempotency import IdempotencyRecord
from shared.outbox import OutboxCounter, OutboxEvent
from shared.sqltypes import UtcDateTime

__all__ = [
    "TABLES",
    "Charge",
    "CreditAccount",
    "CreditEntry",
    "Invoice",
    "InvoiceLine",
    "PartnerFootprint",
]


def money_column_type(precision: int, scale: int = 2) -> TypeEngine[Any]:
    """NUMERIC(precision, scale) on PostgreSQL; text on SQLite, which has no exact decimal
    type (a NUMERIC column there silently becomes a binary float). For migrations."""
    return sa.Numeric(precision, scale).with_variant(sa.String(precision + 2), "sqlite")


class Money(TypeDecorator[Decimal]):
    """A `Decimal` with `scale` places, stored exactly (see `money_column_type`)."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int = 2) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(self.precision + 2))
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(self._quantum)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(self._quantum)


OPEN_PARTNERSHIP = "kind = 'partnership' AND status <> 'void'"
HELD_FOOTPRINT = "kind = 'footprint' AND state = 'held'"


def _money(precision: int = 12, *, nullable: bool = False) -> sa.Column[Decimal]:
    return sa.Column(Money(precision, 2), nullable=nullable)


def _moment(*, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(UtcDateTime(), nullable=nullable)


class Invoice(SQLModel, table=True):
    """An invoice to a buyer organisation: the annual partnership fee or report credits."""

    __tablename__ = "invoice"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('partnership', 'credits')", name="ck_invoice_kind"),
        sa.CheckConstraint("status IN ('issued', 'paid', 'void')", name="ck_invoice_status"),
        sa.Index("ix_invoice_org_id", "org", "id"),
        # At most one open (issued or paid) partnership invoice per partner and year: its
        # factory count is the partner's footprint for the year.
        sa.Index(
            "uq_invoice_open_partnership",
            "org",
            "year",
            unique=True,
            postgresql_where=sa.text(OPEN_PARTNERSHIP),
            sqlite_where=sa.text(OPEN_PARTNERSHIP),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    org: str = Field(max_length=255)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    year: int
    price_book_year: int
    currency: str = Field(max_length=3)
    total: Decimal = Field(sa_column=_money())
    # credits invoices
    report_cycles: int | None = None
    unit_price: Decimal | None = Field(default=None, sa_column=_money(nullable=True))
    # partnership invoices (revenue goes past NUMERIC(12,2): 15 bn is 11 digits + 2)
    apparel_revenue_usd: Decimal | None = Field(default=None, sa_column=_money(18, nullable=True))
    factory_count: int | None = None
    revenue_tier: str | None = Field(default=None, max_length=8)
    footprint_tier: int | None = None
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=_moment())
    # payment (one, for the whole total) or voiding
    paid_amount: Decimal | None = Field(default=None, sa_column=_money(nullable=True))
    paid_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))
    paid_by: str | None = Field(default=None, max_length=255)
    payment_reference: str | None = Field(default=None, max_length=255)
    voided_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))
    voided_by: str | None = Field(default=None, max_length=255)
    void_reason: str | None = Field(default=None, max_length=500)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    invoice_id: str = Field(
        sa_column=sa.Column(
            sa.String(40), sa.ForeignKey("invoice.id", ondelete="CASCADE"), primary_key=True
        )
    )
    position: int = Field(primary_key=True)
    code: str = Field(max_length=64)
    description: str = Field(max_length=500)
    quantity: int
    unit_price: Decimal = Field(sa_column=_money())
    amount: Decimal = Field(sa_column=_money())


class CreditAccount(SQLModel, table=True):
    """A buyer's credit balance; every change to it comes with a `CreditEntry`."""

    __tablename__ = "credit_account"
    __table_args__ = (sa.CheckConstraint("balance >= 0", name="ck_credit_account_balance"),)

    org: str = Field(primary_key=True, max_length=255)
    balance: int
    updated_at: datetime = Field(sa_column=_moment())


class CreditEntry(SQLModel, table=True):
    """The append-only ledger: rows are inserted, never updated or deleted."""

    __tablename__ = "credit_entry"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('purchase', 'spend', 'refund', 'adjustment')", name="ck_credit_entry_kind"
        ),
        sa.Index("ix_credit_entry_org_id", "org", "id"),
        # One spend per unlock, one refund per spend, one purchase per invoice.
        *(
            sa.Index(
                f"uq_credit_entry_{kind}",
                "org",
                "reference",
                unique=True,
                postgresql_where=sa.text(f"kind = '{kind}'"),
                sqlite_where=sa.text(f"kind = '{kind}'"),
            )
            for kind in ("purchase", "spend", "refund")
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    org: str = Field(max_length=255)
    kind: str = Field(max_length=16)
    delta: int
    balance_after: int
    reference: str = Field(max_length=255)
    reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=_moment())


class PartnerFootprint(SQLModel, table=True):
    """A partner's footprint for a calendar year (set by its paid partnership invoice) and how
    many distinct factories it has used; `used` moves only with a conditional update."""

    __tablename__ = "partner_footprint"
    __table_args__ = (
        sa.CheckConstraint("used >= 0 AND used <= footprint", name="ck_partner_footprint_used"),
    )

    org: str = Field(primary_key=True, max_length=255)
    year: int = Field(primary_key=True)
    footprint: int
    used: int = 0
    invoice_id: str = Field(max_length=40)
    set_at: datetime = Field(sa_column=_moment())


class Charge(SQLModel, table=True):
    """What one unlock attempt pays with, named by the attempt's `reference`: a credit
    (participants) or a footprint slot (partners). A reference is used once and its outcome
    is final: `held` while the payment stands, `released` once given back, `cancelled` when
    the caller gave it up before it was made.
    A late or repeated request with a reference that is not `held` charges nothing, so a
    lost, delayed or duplicated call can never take a second credit or slot."""

    __tablename__ = "charge"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('credit', 'footprint')", name="ck_charge_kind"),
        sa.CheckConstraint("state IN ('held', 'released', 'cancelled')", name="ck_charge_state"),
        # The held footprint charges of a factory: its slot is used while there is one.
        sa.Index(
            "ix_charge_footprint_held",
            "org",
            "year",
            "factory_id",
            postgresql_where=sa.text(HELD_FOOTPRINT),
            sqlite_where=sa.text(HELD_FOOTPRINT),
        ),
        sa.Index("ix_charge_state", "state", "org", "reference"),
    )

    org: str = Field(primary_key=True, max_length=255)
    reference: str = Field(primary_key=True, max_length=255)
    kind: str = Field(max_length=16)
    factory_id: str = Field(max_length=255)
    year: int | None = None
    state: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_moment())
    updated_at: datetime = Field(sa_column=_moment())


# Every table class of this service, for its Alembic environment.
TABLES: list[type[SQLModel]] = [
    IdempotencyRecord,
    Invoice,
    InvoiceLine,
    CreditAccount,
    CreditEntry,
    PartnerFootprint,
    Charge,
    OutboxEvent,
    OutboxCounter,
]
