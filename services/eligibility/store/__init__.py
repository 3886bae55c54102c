"""Database queries for the factory registry and its lookup log (async session in, rows
out; only flushes: the request's session dependency commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.eligibility import events
from services.eligibility.domain.matching import RegistryEntry
from services.eligibility.domain.normalise import name_key
from services.eligibility.domain.scoping import REGISTRY_FACTS
from services.eligibility.models import Factory, FactoryLookup
from shared import clock
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "RegistryStamp",
    "create_factory",
    "factories_by_id",
    "get_factory",
    "list_factories",
    "list_lookups",
    "load_registry_entries",
    "record_lookups",
    "registry_countries",
    "registry_facts",
    "registry_stamps",
    "update_factory",
]

RegistryStamp = tuple[int, str, str]  # (rows, latest update, latest id): changes on any write
_BATCH = 1000
_FACTS_BATCH = 5000  # ids per query when reading the facts of matched factories


async def _flush_unique(*, session: AsyncSession, factory: Factory) -> None:
    """Flush a new or changed factory; a clash with another entry's name (within its
    country) or OS ID is a 409 naming that entry."""
    conditions = [
        sa.and_(
            col(Factory.country) == factory.country,
            col(Factory.match_name) == factory.match_name,
        )
    ]
    if factory.os_id is not None:
        conditions.append(col(Factory.os_id) == factory.os_id)
    clash = await session.scalar(
        sa.select(col(Factory.id))
        .where(sa.or_(*conditions), col(Factory.id) != factory.id)
        .limit(1)
    )
    detail = (
        "The registry already has this factory: a name is unique within a country (compared "
        "without case, punctuation and legal form) and an OS ID is unique; update that entry."
    )
    if clash is not None:
        raise Conflict(f"{detail} Existing entry: {clash}.", existing_id=clash)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request registered it first
        raise Conflict(detail) from exc


async def create_factory(
    *, session: AsyncSession, values: dict[str, Any], created_by: str
) -> Factory:
    now = clock.now()
    factory = Factory(
        id=new_id("fac"),
        match_name=name_key(values["name"]),
        enrolment_status="registered",
        created_by=created_by,
        created_at=now,
        updated_at=now,
        **values,
    )
    if not factory.match_name:
        raise Unprocessable(
            "The factory name must contain letters or digits besides its legal form."
        )
    session.add(factory)
    await _flush_unique(session=session, factory=factory)
    await events.factory_registered(session, factory)
    return factory


async def update_factory(
    *, session: AsyncSession, factory: Factory, changes: dict[str, Any]
) -> Factory:
    for field, value in changes.items():
        setattr(factory, field, value)
    if "name" in changes:
        factory.match_name = name_key(factory.name)
    factory.updated_at = clock.now()
    await _flush_unique(session=session, factory=factory)
    if "enrolment_status" in changes:
        await events.enrolment_changed(session, factory)
    return factory


async def get_factory(
    *, session: AsyncSession, factory_id: str, for_update: bool = False
) -> Factory:
    statement = sa.select(Factory).where(col(Factory.id) == factory_id)
    if for_update:
        statement = statement.with_for_update()
    factory = await session.scalar(statement)
    if factory is None:
        raise NotFound(f"There is no factory {factory_id!r} in the registry.")
    return factory


async def list_factories(
    *,
    session: AsyncSession,
    page: PageParams,
    countries: Sequence[str] | None,
    only_id: str | None = None,
    country: str | None = None,
    enrolment_status: str | None = None,
    updated_since: datetime | None = None,
) -> tuple[list[Factory], str | None]:
    """Registry page by id; `countries` None means every country."""
    statement = sa.select(Factory)
    if countries is not None:
        statement = statement.where(col(Factory.country).in_(countries))
    if only_id is not None:
        statement = statement.where(col(Factory.id) == only_id)
    if country is not None:
        statement = statement.where(col(Factory.country) == country)
    if enrolment_status is not None:
        statement = statement.where(col(Factory.enrolment_status) == enrolment_status)
    if updated_since is not None:
        statement = statement.where(col(Factory.updated_at) >= updated_since)
    return await paginate(session, statement, page, key=[sort_key(Factory.id, str)])


async def registry_countries(*, session: AsyncSession) -> list[str]:
    """The countries that have registry factories."""
    rows = await session.scalars(sa.select(col(Factory.country)).distinct())
    return sorted(rows)


async def factories_by_id(*, session: AsyncSession, ids: Iterable[str]) -> dict[str, Factory]:
    """Registry factories by id (ids it does not know are left out)."""
    wanted = sorted(set(ids))
    found: dict[str, Factory] = {}
    for start in range(0, len(wanted), _FACTS_BATCH):
        batch = wanted[start : start + _FACTS_BATCH]
        rows = await session.scalars(sa.select(Factory).where(col(Factory.id).in_(batch)))
        found.update((row.id, row) for row in rows)
    return found


async def registry_stamps(
    *, session: AsyncSession, countries: Iterable[str]
) -> dict[str, RegistryStamp]:
    wanted = sorted(set(countries))
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(
            col(Factory.country),
            sa.func.count(),
            sa.func.max(col(Factory.updated_at)),
            sa.func.max(col(Factory.id)),
        )
        .where(col(Factory.country).in_(wanted))
        .group_by(col(Factory.country))
    )
    return {country: (count, str(updated), str(last)) for country, count, updated, last in rows}


async def load_registry_entries(*, session: AsyncSession, country: str) -> list[RegistryEntry]:
    rows = await session.execute(
        sa.select(
            col(Factory.id),
            col(Factory.name),
            col(Factory.match_name),
            col(Factory.address),
            col(Factory.os_id),
            col(Factory.enrolment_status),
        ).where(col(Factory.country) == country)
    )
    return [RegistryEntry(*row) for row in rows]


async def registry_facts(*, session: AsyncSession, ids: Iterable[str]) -> dict[str, sa.Row[Any]]:
    """The facts of registry factories by id (rows with attribute access, no ORM objects:
    a 50,000-row list may match tens of thousands)."""
    wanted = sorted(set(ids))
    columns = [col(getattr(Factory, name)) for name in ("id", *REGISTRY_FACTS)]
    found: dict[str, sa.Row[Any]] = {}
    for start in range(0, len(wanted), _FACTS_BATCH):
        batch = wanted[start : start + _FACTS_BATCH]
        rows = await session.execute(sa.select(*columns).where(col(Factory.id).in_(batch)))
        found.update((row.id, row) for row in rows)
    return found


_LOOKUP_COLUMNS = (
    "id",
    "factory_id",
    "org",
    "user_id",
    "role",
    "source",
    "reference",
    "looked_up_at",
)


async def record_lookups(
    *,
    session: AsyncSession,
    factory_ids: Iterable[str],
    principal: Principal,
    source: str,
    reference: str | None,
) -> int:
    """One log line per factory looked up by this request or list, in its transaction."""
    now = clock.now()
    records = [
        (
            new_id("lku"),
            factory_id,
            principal.org,
            principal.user,
            principal.role,
            source,
            reference,
            now,
        )
        for factory_id in sorted(set(factory_ids))
    ]
    if not records:
        return 0
    connection = await session.connection()
    if connection.dialect.name == "postgresql" and len(records) > _BATCH:
        # COPY: tens of thousands of lines (a large list) in a fraction of a second, in the
        # request's transaction, so the lines commit or roll back with the rest.
        await connection.execute(sa.text("SELECT 1"))  # the transaction is open
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "factory_lookup", records=records, columns=_LOOKUP_COLUMNS
        )
        return len(records)
    rows = [dict(zip(_LOOKUP_COLUMNS, record, strict=True)) for record in records]
    for start in range(0, len(rows), _BATCH):
        await session.execute(sa.insert(FactoryLookup), rows[start : start + _BATCH])
    return len(records)


async def list_lookups(
    *, session: AsyncSession, factory_id: str, page: PageParams
) -> tuple[list[FactoryLookup], str | None]:
    statement = sa.select(FactoryLookup).where(col(FactoryLookup.factory_id) == factory_id)
    return await paginate(session, statement, page, key=[sort_key(FactoryLookup.id, str)])
