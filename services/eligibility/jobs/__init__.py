"""Scoping factory lists: inline for small lists, as a durable background job for large ones.

A large list is stored as `queued` with its rows (factory_list_upload) in the request, and
leased to the process that took the upload (shared.leases). That process scopes it after the
reply (its CPU work in a worker thread), renewing the lease while it works; the result is
saved and the list marked `done` (or `failed`, with the reason) for the owner to poll. If the
process dies, the lease runs out and any process's sweep (`step`, a shared.background loop)
takes the list and scopes it again from the stored rows. Scoping is deterministic and the
final write checks the lease is still held, so a list completes (rows, lookups, its
`factory_list.completed` event) exactly once however many processes started it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.eligibility import events
from services.eligibility.domain import Engine
from services.eligibility.jobs.gctune import batch_allocations
from services.eligibility.jobs.pipeline import ScopeOutcome, scope
from services.eligibility.models import FactoryList
from services.eligibility.store import record_lookups
from services.eligibility.store.lists import (
    LIST_LEASE,
    claim_list,
    compress_chunks,
    decode_upload,
    encode_rows,
    finish_list,
    load_upload,
    mark_failed,
    release_list,
    save_results,
)
from services.eligibility.store.registry import RegistryCache
from shared.auth import Principal
from shared.errors import ApiError
from shared.ids import new_id
from shared.leases import Heartbeat

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
    await events.decisions_recorded(
        session,
        principal=principal,
        source="factory_list",
        decisions=outcome.decisions,
        factory_list_id=factory_list.id,
    )
    return lines


class ScopingJobs:
    """This process's side of the list jobs: the lists it scopes now, under its own lease
    holder name."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        engine: Engine,
        registry: RegistryCache,
        lease: timedelta,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.engine = engine
        self.registry = registry
        self.lease = lease
        self.holder = new_id("wrk")
        self._tasks: set[asyncio.Task[int]] = set()

    async def submit(self, *, list_id: str) -> None:
        """Start scoping a stored list (a background task of the request that stored it, so
        it runs after that request committed); returns at once."""
        task = asyncio.create_task(self._run(list_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def step(self) -> int:
        """The sweep: scope one list nobody holds (its process died); 1 when it found one."""
        return await self._run(None)

    async def _run(self, list_id: str | None) -> int:
        async with self.sessionmaker() as session:
            claimed = await claim_list(
                session=session, holder=self.holder, length=self.lease, list_id=list_id
            )
            await session.commit()
        if claimed is None:
            return 0
        with batch_allocations():
            await self._scope(claimed)
        return 1

    async def _scope(self, list_id: str) -> None:
        heartbeat = Heartbeat(
            self.sessionmaker, LIST_LEASE, list_id, holder=self.holder, length=self.lease
        )
        try:
            async with heartbeat.running():
                async with self.sessionmaker() as session:
                    upload = await load_upload(session=session, list_id=list_id)
                if upload is None:  # uploaded before the rows were stored
                    await self._fail(list_id, "This list's rows were not kept; upload it again.")
                    return
                blob, principal = upload
                rows = await asyncio.to_thread(decode_upload, blob)
                async with self.sessionmaker() as session:
                    factory_list = await finish_list(
                        session=session, list_id=list_id, holder=self.holder
                    )
                    if factory_list is None:
                        return
                    as_of = factory_list.as_of
                    await session.rollback()  # no lock held while scoping
                    outcome = await scope(
                        session=session,
                        engine=self.engine,
                        registry=self.registry,
                        rows=rows,
                        as_of=as_of,
                        viewer=principal,
                    )
                    await session.rollback()
                    # Still ours (locked until commit)? Then the results are saved once.
                    factory_list = await finish_list(
                        session=session, list_id=list_id, holder=self.holder
                    )
                    if factory_list is None:
                        log.warning("factory list %s was taken over; dropping a result", list_id)
                        return
                    await complete_list(
                        session=session,
                        factory_list=factory_list,
                        outcome=outcome,
                        principal=principal,
                    )
                    await session.commit()
        except asyncio.CancelledError:
            await self._release(list_id)
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
        except Exception:  # the database is gone too: the lease runs out, another retries
            log.exception("could not mark factory list %s failed", list_id)

    async def _release(self, list_id: str) -> None:
        try:
            async with self.sessionmaker() as session:
                await release_list(session=session, list_id=list_id, holder=self.holder)
                await session.commit()
        except Exception:  # the lease runs out instead
            log.exception("could not hand factory list %s back", list_id)

    async def drain(self) -> None:
        """Wait for every job of this process, then sweep until no list is left (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        while await self.step():
            pass

    async def close(self) -> None:
        """Stop: running lists are handed back for another process to finish."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
