"""The integrations service's command line: rebuilding the portfolio from scratch (a new
replica, a lost table, a changed projection): `python -m services.integrations.cli` (the
service's settings: BW_INTEGRATIONS_DATABASE_URL and the sources' URLs).

From the event history: every source keeps its whole outbox (`GET /internal/events`, the
feed here keeps only 30 days), so the rebuild empties the portfolio tables and replays
each source from its first event up to where ingest has taken it in, applying the same
handlers ingest applies, in one transaction. Unlike ingest it holds the facts in memory
for the whole replay (`projection.Replay`), makes each factory's rows once and writes the
tables with COPY, and fetches a source's next page while it applies the current one. It
holds the sources' cursor rows while it works, so the puller waits (nothing is applied
twice or skipped) and readers see the old portfolio until the new one commits. The result
equals the incremental one because the projection does not depend on how the sources'
streams interleave (`store/portfolio/projection.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from typing import Protocol

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.integrations.clients import SOURCES, SourceClient
from services.integrations.models import SourceCursor
from services.integrations.models.portfolio import PORTFOLIO_TABLES
from services.integrations.store.portfolio import projection
from shared.db import make_engine, make_sessionmaker
from shared.outbox import EventOut
from shared.settings import get_settings

__all__ = ["rebuild"]

log = logging.getLogger("betterwork.integrations.portfolio")
BATCH = 1000  # the most a source serves per call


async def _cursors(session: AsyncSession) -> dict[str, int]:
    """Each source's last sequence taken in, its row locked until commit (the puller's
    store waits on it)."""
    rows = await session.execute(
        sa.select(col(SourceCursor.source), col(SourceCursor.last_sequence))
        .order_by(col(SourceCursor.source))
        .with_for_update()
    )
    return {source: int(last) for source, last in rows}


class EventSource(Protocol):
    """A source's outbox feed (SourceClient; the bench's synthetic history)."""

    async def events(self, *, after: int, limit: int) -> list[EventOut]: ...


async def _replay(replay: projection.Replay, source: EventSource, last: int) -> int:
    """Apply the source's events up to `last`, the next page fetched while one is applied."""
    replayed, after = 0, 0
    following = asyncio.ensure_future(source.events(after=0, limit=BATCH)) if last else None
    while following is not None:
        events = [e for e in await following if e.sequence <= last]
        following = None
        if not events:
            break
        after = events[-1].sequence
        if after < last:
            following = asyncio.ensure_future(source.events(after=after, limit=BATCH))
        replay.apply(events)
        replayed += len(events)
    return replayed


async def rebuild(
    sessionmaker: async_sessionmaker[AsyncSession], sources: Mapping[str, EventSource]
) -> int:
    """Replace the portfolio by a replay of every source's events taken in so far; how
    many events were replayed."""
    replay = projection.Replay()
    async with sessionmaker() as session:
        upto = await _cursors(session)
        # The sources are fetched side by side (their HTTP is most of the time): the
        # projection does not depend on how their streams interleave.
        counts = await asyncio.gather(
            *(_replay(replay, client, upto.get(source, 0)) for source, client in sources.items())
        )
        replayed = sum(counts)
        for table in reversed(PORTFOLIO_TABLES):
            await session.execute(sa.delete(table))
        await replay.write(session)
        await session.commit()
    return replayed


async def _main() -> int:
    settings = get_settings()
    engine = make_engine(settings.database_url("integrations"))
    # A plain client: a one-off command gains nothing from the services' pooled transport,
    # whose keep-alive connections held the process open for 30 s after the work.
    http = httpx.AsyncClient(timeout=httpx.Timeout(settings.http_timeout_s, connect=2.0))
    try:
        clients = {source: SourceClient(http, settings, source) for source in SOURCES}
        started = time.perf_counter()
        replayed = await rebuild(make_sessionmaker(engine), clients)
        print(f"portfolio rebuilt from {replayed} events in {time.perf_counter() - started:.1f} s")
        return 0
    finally:
        await http.aclose()
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        return asyncio.run(_main())
    except Exception as exc:  # an operator's command: say what failed, exit non-zero
        print(f"rebuild failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
