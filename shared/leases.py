"""Row leases: how a job kept in a table is worked by one process at a time, and taken over
when that process dies.

A row is due when nobody holds it or its lease ran out. `take` locks due rows with
`FOR UPDATE SKIP LOCKED` (two replicas asking at once get different rows instead of waiting
for each other) and writes the taker and the lease's end; `renew` pushes the end on while
the work lasts, and only for the holder; `Heartbeat` renews on a timer. Work must be
at-least-once with idempotent effects: a holder that stopped answering may finish after
another took over, so its final write checks it still holds the row (`holds`).

SQLite (`make run`'s default) renders no FOR UPDATE: it has a single writer and a single
process, and the UPDATE's conditions still make taking a row a compare-and-set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["Heartbeat", "Lease", "due", "holds", "renew", "take"]

log = logging.getLogger("betterwork.leases")


@dataclass(frozen=True, slots=True)
class Lease:
    """Where a table keeps its leases: the key, the holder and the lease's end columns
    (mapped attributes, e.g. `col(Model.id)`; typed Any as SQLModel's `col` types them as
    plain values)."""

    key: Any
    holder: Any
    until: Any


def _now() -> datetime:
    return datetime.now(UTC)


def due(lease: Lease, now: datetime) -> sa.ColumnElement[bool]:
    """Held by nobody, or the holder's lease ran out."""
    return sa.or_(lease.until.is_(None), lease.until < now)


async def take(
    session: AsyncSession,
    lease: Lease,
    *,
    where: sa.ColumnElement[bool],
    holder: str,
    length: timedelta,
    order_by: Sequence[Any] = (),
    limit: int = 1,
    values: dict[str, Any] | None = None,
) -> list[Any]:
    """Lease up to `limit` rows matching `where` (give it `due(...)` or a wider condition)
    to `holder` for `length`; returns their keys. Also sets `values` on them. The caller
    commits (the row locks last until then)."""
    now = _now()
    keys = list(
        (
            await session.execute(
                sa.select(lease.key)
                .where(where)
                .order_by(*order_by)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    if keys:
        table = lease.key.class_
        await session.execute(
            sa.update(table)
            .where(lease.key.in_(keys))
            .values({lease.holder.key: holder, lease.until.key: now + length, **(values or {})})
        )
    return keys


async def renew(
    session: AsyncSession, lease: Lease, key: Any, *, holder: str, length: timedelta
) -> bool:
    """Push the lease's end on; False when `holder` no longer holds the row."""
    result = await session.execute(
        sa.update(lease.key.class_)
        .where(lease.key == key)
        .where(lease.holder == holder)
        .values({lease.until.key: _now() + length})
    )
    return bool(getattr(result, "rowcount", 0))


def holds(lease: Lease, key: Any, holder: str) -> sa.ColumnElement[bool]:
    """The condition for a holder's final write: the row is still its own."""
    return sa.and_(lease.key == key, lease.holder == holder)


class Heartbeat:
    """Renews a lease every third of its length while the work runs (`async with`)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        lease: Lease,
        key: Any,
        *,
        holder: str,
        length: timedelta,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.lease = lease
        self.key = key
        self.holder = holder
        self.length = length
        self.lost = False

    async def _beat(self) -> None:
        while not self.lost:
            await asyncio.sleep(self.length.total_seconds() / 3)
            try:
                async with self.sessionmaker() as session:
                    held = await renew(
                        session, self.lease, self.key, holder=self.holder, length=self.length
                    )
                    await session.commit()
                self.lost = not held
            except Exception:  # a database blip: the next beat tries again
                log.exception("could not renew the lease on %s", self.key)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Heartbeat]:
        task = asyncio.create_task(self._beat())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
