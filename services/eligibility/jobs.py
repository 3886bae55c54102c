"""Scoping factory lists: inline for small lists, as a background job for large ones.

A large list is stored as `queued` in the request, then scoped by an asyncio task of this
process (its CPU work in a worker thread); the result is persisted and the list marked
`done` (or `failed`, with the reason) for the owner to poll. Jobs still running when the
service stops are marked `failed` so nobody polls forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.eligibility.domain import Engine
from services.eligibility.gctune import batch_allocations
from services.eligibility.models import FactoryList
from services.eligibility.pipeline import ScopeOutcome, scope
from services.eligibility.registry import RegistryCache
from services.eligibility.scoping import InvalidRow, Query
from services.eligibility.store import record_lookups
from services.eligibility.store_lists import (
    compress_chunks,
    encode_rows,
    get_list,
    mark_failed,
    mark_running,
    save_results,
)
from shared.auth import Principal
from shared.errors import ApiError

__all__ = ["SYNC_LIMIT", "ScopingJobs", "complete_list"]

SYNC_LIMIT = 2000  # lists with more rows than this run as a background job
log = logging.getLogger("betterwork.eligibility.jobs")


async def complete_list(
    *,
    session: AsyncSession,
    factory_list: FactoryList,
    outcome: ScopeOutcome,
    principal: Principal,
) -> list[bytes]:
    """Persist a scoped list (rows, summary, lookups); returns the rows as JSON."""
    lines = await asyncio.to_thread(encode_rows, outcome.results)
    chunks = await asyncio.to_thread(compress_chunks, lines)
    await save_results(
        session=session, factory_list=factory_list, chunks=chunks, summary=outcome.summary
    )
    await record_lookups(
        session=session,
        factory_ids=outcome.matched_factory_ids,
        principal=principal,
        source="factory_list",
        reference=factory_list.id,
    )
    return lines


class ScopingJobs:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        engine: Engine,
        registry: RegistryCache,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.engine = engine
        self.registry = registry
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(
        self,
        *,
        list_id: str,
        rows: Sequence[Query | InvalidRow],
        as_of: date,
        principal: Principal,
    ) -> None:
        """Start scoping a stored list (a background task of the request that stored it, so
        it runs after that request committed); returns at once."""
        task = asyncio.create_task(self._run(list_id, rows, as_of, principal))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, list_id: str, rows: Sequence[Query | InvalidRow], as_of: date, principal: Principal
    ) -> None:
        with batch_allocations():
            await self._scope(list_id, rows, as_of, principal)

    async def _scope(
        self, list_id: str, rows: Sequence[Query | InvalidRow], as_of: date, principal: Principal
    ) -> None:
        try:
            async with self.sessionmaker() as session:
                await mark_running(session=session, list_id=list_id)
                await session.commit()
            async with self.sessionmaker() as session:
                factory_list = await get_list(session=session, list_id=list_id)
                outcome = await scope(
                    session=session,
                    engine=self.engine,
                    registry=self.registry,
                    rows=rows,
                    as_of=as_of,
                    viewer=principal,
                )
                await complete_list(
                    session=session, factory_list=factory_list, outcome=outcome, principal=principal
                )
                await session.commit()
        except asyncio.CancelledError:
            await self._fail(
                list_id, "The service stopped while scoping this list; upload it again."
            )
            raise
        except ApiError as exc:
            await self._fail(list_id, exc.detail)
        except Exception:
            log.exception("scoping factory list %s failed", list_id)
            await self._fail(list_id, f"Scoping failed with an internal error (list {list_id}).")

    async def _fail(self, list_id: str, reason: str) -> None:
        try:
            async with self.sessionmaker() as session:
                await mark_failed(session=session, list_id=list_id, error=reason)
                await session.commit()
        except Exception:  # the database is gone too: the start-up sweep will mark it
            log.exception("could not mark factory list %s failed", list_id)

    async def drain(self) -> None:
        """Wait for every job (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
