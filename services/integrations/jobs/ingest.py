"""Taking in the sources' events: each source's outbox is read in order, one puller per
source at a time across every replica (a lease on its `source_cursor` row), and each batch
is stored with its feed positions and audiences in one transaction that also moves the
cursor, so a batch is taken in exactly once and nothing is skipped.

The puller runs in every process (`start_pulling`), waking every `BW_EVENTS_POLL_SECONDS`
(a source that had nothing is pulled less often, `pull_due`); tests call `pull_all` directly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.integrations.clients import SourceClient
from services.integrations.models import FeedAudience, FeedCounter, FeedEvent, SourceCursor
from services.integrations.store import audience_rows
from services.integrations.store.portfolio import projection
from shared.background import start_repeating, stop_repeating
from shared.db import insert_for
from shared.errors import ApiError
from shared.outbox import EventOut, next_number

__all__ = ["audiences_of", "pull_all", "pull_source", "start_pulling", "stop_pulling"]

log = logging.getLogger("betterwork.integrations.ingest")
BATCH = 500
LEASE = timedelta(seconds=15)
OWNER = f"{socket.gethostname()}:{os.getpid()}"


def audiences_of(event: EventOut) -> list[str]:
    return [f"org:{org}" for org in event.orgs] + [f"country:{c}" for c in event.countries]


def _body(source: str, event: EventOut) -> str:
    """The event as the feed and webhook bodies show it (API.md)."""
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "source": source,
            "sequence": event.sequence,
            "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
            "subject": event.subject,
            "data": event.data,
        },
        separators=(",", ":"),
    )


async def _lease(session: AsyncSession, source: str, now: datetime) -> int | None:
    """Take (or renew) the source's lease; the last sequence taken in, or None if another
    process holds it."""
    # The cursor row is made at the source's first pull; after that, the conditional
    # update takes the lease only when it is free, lapsed, or already this process's.
    statement = insert_for(session)(SourceCursor).values(
        source=source, last_sequence=0, lease_owner=OWNER, leased_until=now + LEASE
    )
    statement = statement.on_conflict_do_update(
        index_elements=["source"],
        set_={"lease_owner": OWNER, "leased_until": now + LEASE},
        where=sa.or_(
            col(SourceCursor.lease_owner).is_(None),
            col(SourceCursor.lease_owner) == OWNER,
            col(SourceCursor.leased_until) < now,
        ),
    ).returning(col(SourceCursor.last_sequence))
    taken = await session.execute(statement)
    last = taken.scalar_one_or_none()
    return None if last is None else int(last)


async def _store(
    session: AsyncSession, source: str, after: int, events: list[EventOut], now: datetime
) -> bool:
    """Store one batch and move the cursor from `after`, if this process still holds the
    source at `after` (else nothing: another process took it over)."""
    moved = await session.execute(
        sa.update(SourceCursor)
        .where(
            col(SourceCursor.source) == source,
            col(SourceCursor.last_sequence) == after,
            col(SourceCursor.lease_owner) == OWNER,
        )
        .values(last_sequence=events[-1].sequence, leased_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    last = await next_number(session, FeedCounter, "feed", len(events))
    first = int(last) - len(events) + 1
    rows: list[dict[str, object]] = []
    audiences: list[tuple[int, list[str]]] = []
    for offset, event in enumerate(events):
        position = first + offset
        rows.append(
            {
                "position": position,
                "id": event.id,
                "source": source,
                "sequence": event.sequence,
                "type": event.type,
                "subject_type": event.subject.get("type", ""),
                "subject_id": event.subject.get("id", ""),
                "occurred_at": event.occurred_at,
                "received_at": now,
                "body": _body(source, event),
            }
        )
        audiences.append((position, audiences_of(event)))
    await session.execute(sa.insert(FeedEvent), rows)
    numbered = await audience_rows(session=session, audiences=audiences)
    if numbered:
        await session.execute(sa.insert(FeedAudience), numbered)
    # The brand portfolio's read model moves with the feed, in the same transaction.
    await projection.apply(session=session, events=events)
    return True


async def pull_source(
    sessionmaker: async_sessionmaker[AsyncSession], client: SourceClient, *, limit: int = BATCH
) -> int:
    """Take in the next batch of one source; how many events (0: none, or not ours)."""
    source = client.target
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        after = await _lease(session, source, now)
        await session.commit()
    if after is None:
        return 0
    events = await client.events(after=after, limit=limit)
    if not events:
        return 0
    if [e.sequence for e in events] != list(range(after + 1, after + 1 + len(events))):
        # The outbox numbers are dense; anything else is a source fault, not a gap to skip.
        raise RuntimeError(f"{source} sent a batch out of sequence after {after}")
    async with sessionmaker() as session:
        stored = await _store(session, source, after, events, datetime.now(UTC))
        await session.commit()
    return len(events) if stored else 0


async def pull_all(app: FastAPI) -> int:
    """Every source once (each up to one batch); how many events were taken in."""
    total = 0
    for client in app.state.sources.values():
        try:
            total += await pull_source(app.state.sessionmaker, client)
        except ApiError as exc:  # a source that is down is tried again next round
            log.warning("could not pull %s: %s", client.target, exc.detail)
    return total


# How the background loop paces the pulls. A source whose pull found nothing is pulled
# again after twice the wait before, up to IDLE_MAX_S; once a pull brings events, every
# BW_EVENTS_POLL_SECONDS again. The loop pulls again at once only after a full batch (there
# is more waiting); a partial one means the source is drained, so its next events are taken
# one poll interval later, many to a batch. Each pull is a lease transaction here and a read
# of the source's outbox there: under load they compete with the requests for the same
# cores, and an idle stack polled every source five times a second. An event still reaches
# the feed within a second (issue 10): at most IDLE_MAX_S after a quiet spell, plus up to
# one loop tick (the poll interval) until the loop looks again, plus the pull.
IDLE_MAX_S = 0.6


@dataclass(slots=True)
class _Backoff:
    wait: float
    due: float = 0.0  # loop time of the next pull


async def pull_due(app: FastAPI, backoffs: dict[str, _Backoff]) -> int:
    """`pull_all` for the background loop: the sources whose wait is over, each up to one
    batch; how many brought a full batch (the loop goes on at once while any did)."""
    poll_s: float = app.state.settings.events_poll_s
    full = 0
    for name, client in app.state.sources.items():
        backoff = backoffs.setdefault(name, _Backoff(poll_s))
        if asyncio.get_running_loop().time() < backoff.due:
            continue
        try:
            pulled = await pull_source(app.state.sessionmaker, client)
        except ApiError as exc:  # a source that is down is tried again next round
            log.warning("could not pull %s: %s", client.target, exc.detail)
            pulled = 0
        backoff.wait = poll_s if pulled else min(backoff.wait * 2, max(IDLE_MAX_S, poll_s))
        backoff.due = asyncio.get_running_loop().time() + (0 if pulled else backoff.wait)
        full += 1 if pulled >= BATCH else 0
    return full


async def start_pulling(app: FastAPI) -> None:
    backoffs: dict[str, _Backoff] = {}
    start_repeating(
        app, "puller", lambda: pull_due(app, backoffs), interval=app.state.settings.events_poll_s
    )


async def stop_pulling(app: FastAPI) -> None:
    await stop_repeating(app, "puller")
