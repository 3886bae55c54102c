"""Database queries for partnership applications."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.eligibility.models import PartnershipApplication
from shared.errors import NotFound
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = ["create_application", "get_application", "list_applications"]


async def create_application(
    *, session: AsyncSession, org: str, submitted_by: str, values: dict[str, Any]
) -> PartnershipApplication:
    now = datetime.now(UTC)
    application = PartnershipApplication(
        id=new_id("app"),
        org=org,
        submitted_by=submitted_by,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(application)
    await session.flush()
    return application


async def get_application(
    *, session: AsyncSession, application_id: str, for_update: bool = False
) -> PartnershipApplication:
    statement = sa.select(PartnershipApplication).where(
        col(PartnershipApplication.id) == application_id
    )
    if for_update:  # two advisors recording ILO and IFC at once must not lose either
        statement = statement.with_for_update()
    found = await session.scalar(statement)
    if found is None:
        raise NotFound(f"There is no partnership application {application_id!r}.")
    return found


async def list_applications(
    *, session: AsyncSession, page: PageParams, org: str | None
) -> tuple[list[PartnershipApplication], str | None]:
    statement = sa.select(PartnershipApplication)
    if org is not None:
        statement = statement.where(col(PartnershipApplication.org) == org)
    return await paginate(session, statement, page, key=[sort_key(PartnershipApplication.id, str)])
