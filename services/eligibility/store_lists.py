"""Database queries for factory lists and their results.

Result rows are stored as JSON lines, CHUNK_ROWS to a compressed chunk: a 50,000-row result
is fifty inserts, and any page of rows is read back without parsing the JSON (the reply
splices the stored lines into the page).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.eligibility import events
from services.eligibility.models import FactoryList, FactoryListChunk
from services.eligibility.scoping import RowResult, ScopeSummary
from shared import clock
from shared.errors import NotFound
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "CHUNK_ROWS",
    "create_list",
    "encode_rows",
    "fail_stale_lists",
    "get_list",
    "list_lists",
    "mark_failed",
    "mark_running",
    "read_rows",
    "save_results",
]

CHUNK_ROWS = 1000
_ROW = TypeAdapter(RowResult)


def encode_rows(results: Sequence[RowResult]) -> list[bytes]:
    """Each result row as its JSON (CPU work: call it from a worker thread for big lists)."""
    dump = _ROW.dump_json
    return [dump(row) for row in results]


def compress_chunks(lines: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
    """(first row index, row count, compressed JSON lines) per chunk."""
    chunks = []
    for start in range(0, len(lines), CHUNK_ROWS):
        part = lines[start : start + CHUNK_ROWS]
        chunks.append((start, len(part), zlib.compress(b"\n".join(part), 1)))
    return chunks


async def create_list(
    *,
    session: AsyncSession,
    owner_org: str,
    created_by: str,
    name: str | None,
    status: str,
    source_format: str,
    row_count: int,
    as_of: date,
    countries: list[str],
    warnings: list[str],
) -> FactoryList:
    factory_list = FactoryList(
        id=new_id("fls"),
        owner_org=owner_org,
        created_by=created_by,
        name=name,
        status=status,
        source_format=source_format,
        row_count=row_count,
        as_of=as_of,
        countries=countries,
        warnings=warnings,
        created_at=clock.now(),
    )
    session.add(factory_list)
    await session.flush()
    return factory_list


async def get_list(*, session: AsyncSession, list_id: str) -> FactoryList:
    found = await session.get(FactoryList, list_id)
    if found is None:
        raise NotFound(f"There is no factory list {list_id!r}.")
    return found


async def list_lists(
    *, session: AsyncSession, page: PageParams, owner_org: str | None
) -> tuple[list[FactoryList], str | None]:
    statement = sa.select(FactoryList)
    if owner_org is not None:
        statement = statement.where(col(FactoryList.owner_org) == owner_org)
    return await paginate(session, statement, page, key=[sort_key(FactoryList.id, str)])


async def mark_running(*, session: AsyncSession, list_id: str) -> None:
    await session.execute(
        sa.update(FactoryList)
        .where(col(FactoryList.id) == list_id)
        .values(status="running", started_at=clock.now())
    )


_FAILED_ROW = (col(FactoryList.id), col(FactoryList.owner_org), col(FactoryList.countries))


async def _failed_events(session: AsyncSession, failed: Sequence[Any]) -> int:
    """A factory_list.completed (failed) event per list the UPDATE just failed."""
    for row in failed:
        await events.factory_list_completed(
            session,
            list_id=row.id,
            owner_org=row.owner_org,
            countries=row.countries,
            rows=0,
            status="failed",
        )
    return len(failed)


async def mark_failed(*, session: AsyncSession, list_id: str, error: str) -> None:
    # Only a list not yet settled: a late failure of a finished list is not news.
    result = await session.execute(
        sa.update(FactoryList)
        .where(col(FactoryList.id) == list_id)
        .where(col(FactoryList.status).in_(("queued", "running")))
        .values(status="failed", error=error[:2000], completed_at=clock.now())
        .returning(*_FAILED_ROW)
    )
    await _failed_events(session, result.all())


async def save_results(
    *,
    session: AsyncSession,
    factory_list: FactoryList,
    chunks: Sequence[tuple[int, int, bytes]],
    summary: ScopeSummary,
) -> None:
    """Store the rows and the summary and mark the list done (one transaction)."""
    if chunks:
        await session.execute(
            sa.insert(FactoryListChunk),
            [
                {
                    "list_id": factory_list.id,
                    "chunk": number,
                    "first_row": first,
                    "row_count": count,
                    "rows_gz": blob,
                }
                for number, (first, count, blob) in enumerate(chunks)
            ],
        )
    now = clock.now()
    factory_list.status = "done"
    factory_list.summary = asdict(summary)
    factory_list.started_at = factory_list.started_at or now
    factory_list.completed_at = now
    session.add(factory_list)
    await session.flush()
    await events.factory_list_completed(
        session,
        list_id=factory_list.id,
        owner_org=factory_list.owner_org,
        countries=factory_list.countries,
        rows=factory_list.row_count,
        status="done",
    )


async def read_rows(
    *, session: AsyncSession, list_id: str, start: int, limit: int | None
) -> list[bytes]:
    """Rows `start` .. `start + limit` (all from `start` when limit is None) as JSON."""
    statement = (
        sa.select(col(FactoryListChunk.first_row), col(FactoryListChunk.rows_gz))
        .where(col(FactoryListChunk.list_id) == list_id)
        .where(col(FactoryListChunk.first_row) + col(FactoryListChunk.row_count) > start)
        .order_by(col(FactoryListChunk.chunk))
    )
    if limit is not None:
        statement = statement.where(col(FactoryListChunk.first_row) < start + limit)
    rows: list[bytes] = []
    for first_row, blob in await session.execute(statement):
        lines = zlib.decompress(blob).split(b"\n")
        rows.extend(lines[max(0, start - first_row) :])
    return rows if limit is None else rows[:limit]


async def fail_stale_lists(*, session: AsyncSession, older_than: timedelta) -> int:
    """Lists left queued or running by a process that stopped: say so instead of 'running'
    forever (the rows were in that process's memory; the owner uploads again)."""
    result = await session.execute(
        sa.update(FactoryList)
        .where(col(FactoryList.status).in_(("queued", "running")))
        .where(col(FactoryList.created_at) < clock.now() - older_than)
        .values(
            status="failed",
            error="The service restarted before this list was scoped; upload it again.",
            completed_at=clock.now(),
        )
        .returning(*_FAILED_ROW)
    )
    return await _failed_events(session, result.all())
