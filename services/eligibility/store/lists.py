"""Database queries for factory lists and their results.

Result rows are stored as JSON lines, CHUNK_ROWS to a compressed chunk: a 50,000-row result
is fifty inserts, and any page of rows is read back without parsing the JSON (the reply
splices the stored lines into the page).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.eligibility import events
from services.eligibility.domain.scoping import (
    FieldError,
    InvalidRow,
    RowError,
    RowResult,
    ScopeSummary,
)
from services.eligibility.models import FactoryList, FactoryListChunk, FactoryListUpload
from services.eligibility.schemas import FactoryQuery
from shared import clock
from shared.auth import Principal
from shared.errors import NotFound
from shared.ids import new_id
from shared.leases import Lease, due, holds, take
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "CHUNK_ROWS",
    "LIST_LEASE",
    "MAX_ATTEMPTS",
    "claim_list",
    "create_list",
    "decode_upload",
    "encode_rows",
    "encode_upload",
    "finish_list",
    "get_list",
    "list_lists",
    "load_upload",
    "mark_failed",
    "read_rows",
    "release_list",
    "save_results",
    "save_upload",
]

CHUNK_ROWS = 1000
_ROW = TypeAdapter(RowResult)
_QUERIES = TypeAdapter(list[FactoryQuery])
LIST_LEASE = Lease(
    col(FactoryList.id), col(FactoryList.lease_holder), col(FactoryList.leased_until)
)
# A list whose scoping killed this many processes (or kept failing to finish) is failed
# rather than handed on forever.
MAX_ATTEMPTS = 3
_UNFINISHED = ("queued", "running")


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
    lease_holder: str | None = None,
    leased_until: datetime | None = None,
) -> FactoryList:
    factory_list = FactoryList(
        lease_holder=lease_holder,
        leased_until=leased_until,
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


_FAILED_ROW = (col(FactoryList.id), col(FactoryList.owner_org), col(FactoryList.countries))


async def _failed_events(*, session: AsyncSession, failed: Sequence[Any]) -> int:
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
        .values(status="failed", error=error[:2000], completed_at=clock.now(), leased_until=None)
        .returning(*_FAILED_ROW)
    )
    await _failed_events(session=session, failed=result.all())
    await _drop_upload(session=session, list_id=list_id)


async def _drop_upload(*, session: AsyncSession, list_id: str) -> None:
    await session.execute(
        sa.delete(FactoryListUpload).where(col(FactoryListUpload.list_id) == list_id)
    )


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
    factory_list.leased_until = None
    session.add(factory_list)
    await session.flush()
    await _drop_upload(session=session, list_id=factory_list.id)
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


def encode_upload(rows: Sequence[FactoryQuery | InvalidRow]) -> bytes:
    """The rows as read from the upload, compressed (CPU work: a worker thread for big
    lists): the queries as one JSON array, the unreadable rows with their positions."""
    queries = [r for r in rows if not isinstance(r, InvalidRow)]
    invalid = [(i, asdict(r)) for i, r in enumerate(rows) if isinstance(r, InvalidRow)]
    queries_json = _QUERIES.dump_json(queries, exclude_unset=True)
    invalid_json = TypeAdapter(list[tuple[int, dict[str, Any]]]).dump_json(invalid)
    return zlib.compress(b'{"queries":' + queries_json + b',"invalid":' + invalid_json + b"}", 1)


def decode_upload(blob: bytes) -> list[FactoryQuery | InvalidRow]:
    data = json.loads(zlib.decompress(blob))
    queries = _QUERIES.validate_python(data["queries"])
    rows: list[FactoryQuery | InvalidRow] = []
    pending = iter(queries)
    invalid = {int(i): raw for i, raw in data["invalid"]}
    for position in range(len(queries) + len(invalid)):
        raw = invalid.get(position)
        if raw is None:
            rows.append(next(pending))
            continue
        error = RowError(raw["error"]["message"], [FieldError(**e) for e in raw["error"]["errors"]])
        rows.append(InvalidRow(raw["row"], error, raw["client_ref"], raw["country"]))
    return rows


async def save_upload(
    *, session: AsyncSession, list_id: str, rows_gz: bytes, principal: Principal
) -> None:
    """Keep a queued list's rows (with the list, one transaction): any process can scope it."""
    session.add(FactoryListUpload(list_id=list_id, principal=asdict(principal), rows_gz=rows_gz))
    await session.flush()


async def load_upload(*, session: AsyncSession, list_id: str) -> tuple[bytes, Principal] | None:
    upload = await session.get(FactoryListUpload, list_id)
    if upload is None:
        return None
    raw: dict[str, Any] = dict(upload.principal)
    raw["countries"] = tuple(raw.get("countries") or ())
    return upload.rows_gz, Principal(**raw)


async def claim_list(
    *, session: AsyncSession, holder: str, length: timedelta, list_id: str | None = None
) -> str | None:
    """Lease an unfinished list to `holder`: `list_id` when given (the upload reserved it
    for its own process, or its lease ran out), else any whose lease ran out (or nobody
    holds), oldest first. Returns its id; the caller commits."""
    now = clock.now()
    where: sa.ColumnElement[bool] = col(FactoryList.status).in_(_UNFINISHED)
    if list_id is None:
        where = sa.and_(where, due(LIST_LEASE, now))
    else:
        where = sa.and_(
            where,
            col(FactoryList.id) == list_id,
            sa.or_(due(LIST_LEASE, now), col(FactoryList.lease_holder) == holder),
        )
    taken = await take(
        session,
        LIST_LEASE,
        where=where,
        holder=holder,
        length=length,
        order_by=[col(FactoryList.created_at)],
        values={
            "status": "running",
            "attempts": col(FactoryList.attempts) + 1,
            "started_at": sa.func.coalesce(col(FactoryList.started_at), now),
        },
    )
    if not taken:
        return None
    claimed: str = taken[0]
    attempts = await session.scalar(
        sa.select(col(FactoryList.attempts)).where(col(FactoryList.id) == claimed)
    )
    if attempts is not None and attempts > MAX_ATTEMPTS:
        await mark_failed(
            session=session,
            list_id=claimed,
            error=f"Scoping this list stopped {MAX_ATTEMPTS} times; upload it again.",
        )
        return None
    return claimed


async def release_list(*, session: AsyncSession, list_id: str, holder: str) -> None:
    """Hand an unfinished list back at once (this process is stopping): another process
    takes it on its next look, without waiting for the lease to run out."""
    await session.execute(
        sa.update(FactoryList)
        .where(holds(LIST_LEASE, list_id, holder))
        .where(col(FactoryList.status).in_(_UNFINISHED))
        .values(leased_until=None, lease_holder=None, attempts=col(FactoryList.attempts) - 1)
    )


async def finish_list(*, session: AsyncSession, list_id: str, holder: str) -> FactoryList | None:
    """The list, locked, when `holder` still holds it unfinished (its results may be saved
    in this transaction); None when another process took it over or it is settled."""
    return (
        await session.execute(
            sa.select(FactoryList)
            .where(holds(LIST_LEASE, list_id, holder))
            .where(col(FactoryList.status).in_(_UNFINISHED))
            .with_for_update()
        )
    ).scalar_one_or_none()
