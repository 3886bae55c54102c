"""A synthetic event history for timing the portfolio's rebuild at sizes the real APIs
would take hours to make (bench/portfolio.py): per factory, the events the scenario's
set-up records through the services (registry entry, enrolment, a TPA requested and for
half approved, an assessment released and cycle opened for one in ten, a few unlocked),
plus the brand's factory list matching every factory, served as each source's outbox
feed would serve it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlmodel import SQLModel

from services.integrations import cli
from services.integrations.models import SourceCursor
from services.integrations.models.portfolio import PORTFOLIO_TABLES
from shared.db import make_engine, make_sessionmaker
from shared.events import eligibility as eligibility_events
from shared.outbox import EventOut
from tests.databases import PG_ADMIN_DSN, _pg_url

__all__ = ["SyntheticSource", "synthetic_sources", "timed_rebuild"]

COUNTRIES = ("BD", "KH", "VN", "ID")
START = datetime(2026, 1, 1, tzinfo=UTC)


class SyntheticSource:
    """One source's outbox, in memory: `events(after=, limit=)` as `/internal/events`."""

    def __init__(self, events: list[EventOut]) -> None:
        self._events = events

    async def events(self, *, after: int, limit: int) -> list[EventOut]:
        return self._events[after : after + limit]  # sequence n is at index n - 1

    @property
    def last(self) -> int:
        return len(self._events)


class _Outbox:
    def __init__(self, source: str) -> None:
        self.source = source
        self.events: list[EventOut] = []

    def add(self, kind: str, data: dict[str, object], orgs: list[str], country: str) -> None:
        sequence = len(self.events) + 1
        self.events.append(
            EventOut(
                sequence=sequence,
                id=f"evt_{self.source}_{sequence}",
                type=kind,
                occurred_at=START + timedelta(milliseconds=sequence),
                subject={"type": kind.split(".")[0], "id": f"{self.source}-{sequence}"},
                data=data,
                orgs=orgs,
                countries=[country],
            )
        )


def synthetic_sources(factories: int, brand: str) -> Mapping[str, SyntheticSource]:
    eligibility, reports, cycles = _Outbox("eligibility"), _Outbox("reports"), _Outbox("cycles")
    listed: list[tuple[str, str]] = []
    for n in range(factories):
        factory_id, country = f"fac_{n:08d}", COUNTRIES[n % len(COUNTRIES)]
        eligibility.add(
            "factory.registered",
            {"factory_id": factory_id, "name": f"Mill {n:06d}", "country": country,
             "os_id": None},
            [factory_id], country,
        )  # fmt: skip
        if n % 3 or n % 10 == 0:
            eligibility.add(
                "factory.enrolment_changed",
                {"factory_id": factory_id, "country": country, "enrolment_status": "enrolled"},
                [factory_id], country,
            )  # fmt: skip
        listed.append((factory_id, country))
        tpa = {"access_request_id": f"acr_{n}", "factory_id": factory_id, "buyer_org": brand}
        reports.add("access_request.created", {**tpa, "status": "pending"}, [brand], country)
        if n % 2 == 0:
            reports.add("access_request.approved", {**tpa, "status": "approved"}, [brand], country)
        if n % 10 == 0:
            cycles.add(
                "cycle.opened",
                {"cycle_id": f"cyc_{n}", "factory_id": factory_id, "number": 1},
                [factory_id], country,
            )  # fmt: skip
            reports.add(
                "report.released",
                {"report_id": f"rpt_{n}", "factory_id": factory_id, "cycle": 1,
                 "kind": "assessment", "title": "Assessment",
                 "noncompliant_by_cluster": {"Compensation": 1},
                 "public_noncompliant_by_cluster": {}},
                [brand, factory_id], country,
            )  # fmt: skip
            if n % 20 == 0:
                reports.add(
                    "unlock.created",
                    {"unlock_id": f"unl_{n}", "factory_id": factory_id, "cycle": 1,
                     "buyer_org": brand, "charged_credits": 1},
                    [brand], country,
                )  # fmt: skip
    size = eligibility_events.DECISIONS_PER_EVENT
    parts = -(-len(listed) // size)
    for part in range(parts):
        batch = listed[part * size : (part + 1) * size]
        eligibility.add(
            "eligibility.decided",
            {"org": brand, "source": "factory_list", "factory_list_id": "fls_bench",
             "decisions": [{"factory_id": f, "status": "eligible"} for f, _ in batch],
             "part": part + 1, "parts": parts},
            [brand], batch[0][1],
        )  # fmt: skip
    return {
        outbox.source: SyntheticSource(outbox.events) for outbox in (eligibility, reports, cycles)
    }


async def _admin(attempts: int = 30) -> asyncpg.Connection:
    """An admin connection, waiting out a shared machine's full PostgreSQL (other runs')."""
    for attempt in range(attempts):
        try:
            return await asyncpg.connect(PG_ADMIN_DSN)
        except asyncpg.TooManyConnectionsError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


async def timed_rebuild(factories: int, brand: str) -> tuple[int, float]:
    """`cli.rebuild` of a synthetic history of `factories` into a scratch PostgreSQL
    database (dropped after): (events replayed, seconds). Only the sources' HTTP is left
    out: the bench's real-stack rebuild times that part."""
    sources = synthetic_sources(factories, brand)
    name = f"bwt_bench_rebuild_{uuid.uuid4().hex[:8]}"
    admin = await _admin()
    await admin.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_pg_url(name))
    try:
        tables = [model.__table__ for model in (SourceCursor, *PORTFOLIO_TABLES)]  # type: ignore[attr-defined]
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: SQLModel.metadata.create_all(sync, tables=tables)
            )
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session:
            session.add_all(
                SourceCursor(source=source, last_sequence=feed.last)
                for source, feed in sources.items()
            )
            await session.commit()
        started = time.perf_counter()
        replayed = await cli.rebuild(sessionmaker, sources)
        return replayed, time.perf_counter() - started
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE "{name}"')
        await admin.close()
