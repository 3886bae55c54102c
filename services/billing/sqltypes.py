"""Column types that keep money exact on PostgreSQL and on SQLite alike (times in UTC:
`shared.sqltypes`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["Money", "money_column_type"]


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
