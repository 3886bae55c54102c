"""Tables and request/response schemas of the billing service."""

from __future__ import annotations

from sqlmodel import SQLModel

# Every table class of this service, for its Alembic environment.
TABLES: list[type[SQLModel]] = []
