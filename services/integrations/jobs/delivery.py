"""Webhook delivery: durable rows in `webhook_delivery`, worked by every replica.

1. Fan-out (`fan_out`): each enabled endpoint is taken under its row lock
   (`FOR UPDATE SKIP LOCKED`: one replica per endpoint at a time); the feed positions after
   its `scanned_position` that it receives become delivery rows, and the position moves,
   in one transaction. Feed positions become visible in order (`ingest`), so nothing is
   skipped; a crash before commit leaves the position where it was (rows are made again
   with ON CONFLICT DO NOTHING).
2. Claim (`claim`): due rows are locked with `SKIP LOCKED` and leased by moving
   `next_attempt_at` past the lease and writing the owner: a row is worked by one process
   at a time; if that process dies (kill -9), the row comes due again when the lease ends
   (at-least-once; receivers de-duplicate on `webhook-id`).
3. Attempt (`attempt`): POST the event as the feed shows it, signed; never follow
   redirects, read at most `max_reply_bytes` of the reply, give up after `timeout_s` in
   all. The result is written only while the row is still this process's.

Retries: after attempt n fails the next comes `schedule[n-1]` later (±10% jitter so a
receiver coming back is not hit by every retry at once). The default schedule is 5 s,
5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 20 h, 24 h: eleven attempts over about 3.6
days (`BW_WEBHOOK_RETRY_SCHEDULE`, seconds separated by commas). When the last fails, the
delivery is `failed`, the endpoint is disabled and its owner gets `webhook_endpoint.disabled`.

A receiver that is down (its endpoint has `failing_since`) is probed (`probe`) every
`probe_s` (30 s, `BW_WEBHOOK_PROBE_SECONDS`): one of its waiting deliveries, the one whose
retry comes first, is leased and tried early. One probe per endpoint per interval across
replicas: the endpoint row is taken with `FOR UPDATE SKIP LOCKED` and its `probe_at` moved
on in the same transaction. A probe that succeeds is that delivery succeeding, and it
releases the rest of the backlog at once (`_release_backlog`): a receiver down for ten
minutes has everything within about `probe_s` of coming back, with no new event needed.

The rule for probes and the schedule: **a probe does not count**. It is an extra attempt,
outside the schedule: a failed probe leaves the delivery's attempt count as it was and
puts its retry back at the time the schedule had set, so the schedule, and the endpoint's
disabling at its end, run exactly as they would without probes (probing every 30 s never
disables an endpoint sooner, and never postpones or resets its scheduled retries). Its
attempt row repeats the delivery's attempt number and says it was a probe. Only a worker
killed mid-probe makes it count: its lease runs out and the row is then a due retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.integrations import store
from services.integrations.domain import signing
from services.integrations.jobs import ssrf
from services.integrations.models import (
    FeedAudience,
    FeedEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from services.integrations.store import hooks
from shared.background import start_repeating, stop_repeating
from shared.events.integrations import WebhookEndpointDisabled
from shared.metrics import WEBHOOK_DELIVERIES
from shared.transport import AiohttpTransport

__all__ = [
    "DEFAULT_SCHEDULE",
    "OWNER",
    "WebhookConfig",
    "claim",
    "deliver",
    "deliver_due",
    "fan_out",
    "probe",
    "start_delivering",
    "stop_delivering",
    "work_once",
]

log = logging.getLogger("betterwork.integrations.delivery")
OWNER = f"{socket.gethostname()}:{os.getpid()}"
DEFAULT_SCHEDULE: tuple[float, ...] = (
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
)


def _schedule_from_env() -> tuple[float, ...]:
    raw = os.environ.get("BW_WEBHOOK_RETRY_SCHEDULE", "").strip()
    if not raw:
        return DEFAULT_SCHEDULE
    return tuple(float(part) for part in raw.split(",") if part.strip())


@dataclass
class WebhookConfig:
    schedule: tuple[float, ...] = field(default_factory=_schedule_from_env)
    timeout_s: float = field(
        default_factory=lambda: float(os.environ.get("BW_WEBHOOK_TIMEOUT_SECONDS", "10"))
    )
    max_reply_bytes: int = 4096
    batch: int = 200
    concurrency: int = 50
    production: bool = False

    # Longer than an attempt can take, so a live worker never loses its row midway; a dead
    # worker's rows come due again after it (`BW_WEBHOOK_LEASE_SECONDS`, for fault tests).
    lease_s: float | None = field(
        default_factory=lambda: (
            float(os.environ["BW_WEBHOOK_LEASE_SECONDS"])
            if os.environ.get("BW_WEBHOOK_LEASE_SECONDS")
            else None
        )
    )

    # How often a receiver that is down is probed beyond its schedule (module doc); 0: never.
    probe_s: float = field(
        default_factory=lambda: float(os.environ.get("BW_WEBHOOK_PROBE_SECONDS", "30"))
    )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s or self.timeout_s + 30)


@dataclass(frozen=True)
class Claimed:
    id: int
    endpoint_id: str
    position: int
    event_id: str
    attempt: int
    # A probe (`probe`): the retry the schedule had set, which a failed probe keeps.
    resume_at: datetime | None = None

    @property
    def is_probe(self) -> bool:
        return self.resume_at is not None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None


# --- fan-out --------------------------------------------------------------------------


async def fan_out(sessionmaker: async_sessionmaker[AsyncSession], *, batch: int = 1000) -> int:
    """Make the delivery rows of new feed events for every enabled endpoint; how many."""
    made = 0
    async with sessionmaker() as session:
        # Positions become visible in order (ingest), so every position up to `last` is
        # there to scan: an endpoint that matched none of them has seen up to `last`, and
        # a round with nothing new costs these two queries, not one per endpoint.
        last = await hooks.last_position(session=session)
        endpoints = (
            await session.scalars(
                sa.select(WebhookEndpoint)
                .where(col(WebhookEndpoint.enabled), col(WebhookEndpoint.scanned_position) < last)
                .order_by(col(WebhookEndpoint.id))
                .with_for_update(skip_locked=True)
            )
        ).all()
        now = datetime.now(UTC)
        for endpoint in endpoints:
            events = await hooks.matching_positions(
                session=session, endpoint=endpoint, after=endpoint.scanned_position, limit=batch
            )
            if events:
                await hooks.enqueue(
                    session=session, endpoint_id=endpoint.id, events=events, now=now
                )
                made += len(events)
            seen = events[-1][0] if events else 0
            endpoint.scanned_position = seen if len(events) == batch else max(seen, last)
        await session.commit()
    return made


# --- claiming -------------------------------------------------------------------------


# What a leased delivery is read back as (`Claimed`, in this order): by claims and probes.
_CLAIMED = (
    col(WebhookDelivery.id),
    col(WebhookDelivery.endpoint_id),
    col(WebhookDelivery.position),
    col(WebhookDelivery.event_id),
    col(WebhookDelivery.attempts),
)


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: WebhookConfig,
    *,
    owner: str = OWNER,
) -> list[Claimed]:
    """Lease the due deliveries of enabled endpoints (up to a batch) to `owner`."""
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        due = (
            await session.scalars(
                sa.select(col(WebhookDelivery.id))
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
                .where(
                    col(WebhookDelivery.state) == "pending",
                    col(WebhookDelivery.next_attempt_at) <= now,
                    col(WebhookEndpoint.enabled),
                )
                .order_by(col(WebhookDelivery.next_attempt_at))
                .limit(config.batch)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            )
        ).all()
        if not due:
            return []
        rows = (
            await session.execute(
                sa.update(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_(list(due)))
                .values(
                    next_attempt_at=now + config.lease,
                    lease_owner=owner,
                    attempts=col(WebhookDelivery.attempts) + 1,
                )
                .returning(*_CLAIMED)
                .execution_options(synchronize_session=False)
            )
        ).all()
        await session.commit()
    return [Claimed(int(r[0] or 0), r[1], int(r[2]), r[3], int(r[4])) for r in rows]


async def probe(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: WebhookConfig,
    *,
    owner: str = OWNER,
) -> list[Claimed]:
    """Lease one waiting delivery of each receiver that is down and due a probe (module
    doc), without counting an attempt; the probes."""
    if config.probe_s <= 0:
        return []
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        # Locked in id order and skipped when another replica holds them: one probe per
        # endpoint at a time, and `probe_at` moves on before the lock goes.
        endpoint_ids = (
            await session.scalars(
                sa.select(col(WebhookEndpoint.id))
                .where(
                    col(WebhookEndpoint.enabled),
                    col(WebhookEndpoint.failing_since).is_not(None),
                    sa.or_(
                        col(WebhookEndpoint.probe_at).is_(None),
                        col(WebhookEndpoint.probe_at) <= now,
                    ),
                )
                .order_by(col(WebhookEndpoint.id))
                .limit(config.batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not endpoint_ids:
            return []
        probes: list[Claimed] = []
        for endpoint_id in endpoint_ids:
            waiting = (
                await session.execute(
                    sa.select(col(WebhookDelivery.id), col(WebhookDelivery.next_attempt_at))
                    .where(
                        col(WebhookDelivery.state) == "pending",
                        col(WebhookDelivery.endpoint_id) == endpoint_id,
                        col(WebhookDelivery.lease_owner).is_(None),
                    )
                    .order_by(col(WebhookDelivery.next_attempt_at))
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if waiting is None or waiting[1] <= now:
                continue  # nothing waits, or a retry is due anyway: `claim` takes it
            leased = (
                await session.execute(
                    sa.update(WebhookDelivery)
                    .where(col(WebhookDelivery.id) == waiting[0])
                    .values(next_attempt_at=now + config.lease, lease_owner=owner)
                    .returning(*_CLAIMED)
                    .execution_options(synchronize_session=False)
                )
            ).one()
            probes.append(
                Claimed(
                    int(leased[0] or 0),
                    leased[1],
                    int(leased[2]),
                    leased[3],
                    int(leased[4]),
                    resume_at=waiting[1],
                )
            )
        await session.execute(
            sa.update(WebhookEndpoint)
            .where(col(WebhookEndpoint.id).in_(list(endpoint_ids)))
            .values(probe_at=now + timedelta(seconds=config.probe_s))
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return probes


# --- one attempt ----------------------------------------------------------------------


def _keys(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    keys = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until is not None
        and endpoint.previous_secret_until > now
    ):
        keys.append(endpoint.previous_secret)
    return keys


async def _post(
    client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str], config: WebhookConfig
) -> Outcome:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        # One deadline for the whole attempt, the address check included: a resolver that
        # never answers, or a receiver that drips a byte a second (httpx's timeouts are per
        # read), would otherwise hold the worker for ever.
        async with asyncio.timeout(config.timeout_s):
            try:
                target = await ssrf.pin(url, production=config.production)
            except ssrf.UnsafeUrl as exc:
                return Outcome(None, elapsed(), f"refused: {exc}")
            extensions = {}
            if target.host is not None:
                headers = {**headers, "host": target.host}
                extensions["sni_hostname"] = urlsplit(url).hostname or target.host
            async with client.stream(
                "POST", target.url, content=body.encode(), headers=headers, extensions=extensions
            ) as reply:
                seen = 0
                async for chunk in reply.aiter_raw():
                    seen += len(chunk)
                    if seen >= config.max_reply_bytes:
                        break  # the reply's content does not matter: its status does
                status = reply.status_code
    except TimeoutError:
        return Outcome(None, elapsed(), f"timed out after {config.timeout_s:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= status < 300:
        return Outcome(status, elapsed(), None)
    if 300 <= status < 400:
        return Outcome(status, elapsed(), f"redirect ({status}) not followed")
    return Outcome(status, elapsed(), f"HTTP {status}")


async def _load(
    sessionmaker: async_sessionmaker[AsyncSession], jobs: list[Claimed]
) -> tuple[dict[str, WebhookEndpoint], dict[tuple[str, int], str]]:
    """The endpoints of a batch and each job's body as its endpoint's owner sees it
    (`store.with_sequence`), in one session (three queries)."""
    positions = {job.position for job in jobs}
    async with sessionmaker() as session:
        endpoints = {
            e.id: e
            for e in await session.scalars(
                sa.select(WebhookEndpoint).where(
                    col(WebhookEndpoint.id).in_({job.endpoint_id for job in jobs})
                )
            )
        }
        found = await session.execute(
            sa.select(col(FeedEvent.position), col(FeedEvent.body)).where(
                col(FeedEvent.position).in_(positions)
            )
        )
        bodies = {int(position): body for position, body in found.all()}
        numbers: dict[tuple[str, int], int | None] = {}
        orgs = {f"{store.ORG}{e.org}" for e in endpoints.values() if e.role != "advisor"}
        if orgs:
            found_numbers = await session.execute(
                sa.select(
                    col(FeedAudience.audience),
                    col(FeedAudience.position),
                    col(FeedAudience.sequence),
                ).where(
                    col(FeedAudience.position).in_(positions), col(FeedAudience.audience).in_(orgs)
                )
            )
            numbers = {(key, int(pos)): number for key, pos, number in found_numbers.all()}
    seen: dict[tuple[str, int], str] = {}
    for job in jobs:
        endpoint, body = endpoints.get(job.endpoint_id), bodies.get(job.position)
        if endpoint is None or body is None:
            continue
        if endpoint.role != "advisor":
            # An organisation's own number; 0 for what is not in its feed (a test event).
            body = store.with_sequence(
                body, numbers.get((f"{store.ORG}{endpoint.org}", job.position)) or 0
            )
        seen[(job.endpoint_id, job.position)] = body
    return endpoints, seen


@dataclass(frozen=True)
class Result:
    """One attempt's outcome, to be written with the rest of its batch."""

    job: Claimed
    endpoint: WebhookEndpoint
    outcome: Outcome
    give_up: bool = False  # the event is gone: no retry can deliver it

    def next_retry(self, config: WebhookConfig, now: datetime) -> datetime | None:
        if self.outcome.ok or self.give_up:
            return None
        if self.job.resume_at is not None:
            return self.job.resume_at  # a failed probe: the schedule's retry stays
        if self.job.attempt > len(config.schedule):
            return None
        delay = config.schedule[self.job.attempt - 1] * random.uniform(0.9, 1.1)  # noqa: S311
        return now + timedelta(seconds=delay)

    def ends_the_schedule(self, config: WebhookConfig) -> bool:
        return (
            not self.outcome.ok
            and not self.give_up
            and not self.job.is_probe
            and self.job.attempt > len(config.schedule)
        )

    @property
    def error(self) -> str | None:
        """The attempt's error as its owner reads it (a failed probe says it was one)."""
        if self.outcome.error is None or not self.job.is_probe:
            return self.outcome.error
        return f"{self.outcome.error} (a probe of a receiver that is down: not counted)"[:500]


async def _attempt(
    app: FastAPI, job: Claimed, endpoint: WebhookEndpoint, body: str | None
) -> Result:
    if body is None:
        return Result(
            job, endpoint, Outcome(None, 0, "the event is no longer kept (30 days)"), True
        )
    now = datetime.now(UTC)
    headers = signing.headers(job.event_id, body, now, _keys(endpoint, now))
    headers["content-type"] = "application/json"
    headers["user-agent"] = "BetterWork-Webhooks/1"
    outcome = await _post(app.state.webhook_http, endpoint.url, body, headers, app.state.webhooks)
    return Result(job, endpoint, outcome)


async def deliver(app: FastAPI, jobs: list[Claimed], *, owner: str = OWNER) -> int:
    """Attempt claimed deliveries concurrently, then write every result in one transaction
    (a transaction per attempt cost more than the attempt itself); how many."""
    config: WebhookConfig = app.state.webhooks
    endpoints, bodies = await _load(app.state.sessionmaker, jobs)
    gate = asyncio.Semaphore(config.concurrency)

    async def run(job: Claimed) -> Result | None:
        endpoint = endpoints.get(job.endpoint_id)
        if endpoint is None:
            return None  # deleted meanwhile: its deliveries went with it
        async with gate:
            try:
                return await _attempt(
                    app, job, endpoint, bodies.get((job.endpoint_id, job.position))
                )
            except Exception:  # the lease brings the row back; log and go on with the rest
                log.exception("delivering %s to %s failed", job.event_id, job.endpoint_id)
                return None

    results = [r for r in await asyncio.gather(*(run(job) for job in jobs)) if r is not None]
    if results:
        await _record(app.state.sessionmaker, results, config, owner)
    return len(jobs)


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    results: list[Result],
    config: WebhookConfig,
    owner: str,
) -> None:
    """Write a batch's results, each only while its row is still this process's (a lease
    that ran out let another process take the row: its result counts)."""
    now = datetime.now(UTC)
    to_disable = {r.endpoint.id for r in results if r.ends_the_schedule(config)}
    came_back = {r.endpoint.id for r in results if r.outcome.ok and r.endpoint.failing_since}
    went_down = {
        r.endpoint.id for r in results if not r.outcome.ok and r.endpoint.failing_since is None
    } - came_back
    async with sessionmaker() as session:
        # The endpoint rows this batch changes first, in id order, as fan-out takes them:
        # the two never wait on each other in opposite orders.
        for endpoint_id in sorted(to_disable | came_back | went_down):
            await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        retries = {r.job.id: r.next_retry(config, now) for r in results}
        ours = await _settle(session, results, retries, owner)
        if not ours:
            await session.rollback()
            return
        await session.execute(
            sa.insert(WebhookAttempt),
            [
                {
                    "endpoint_id": r.job.endpoint_id,
                    "delivery_id": r.job.id,
                    "event_id": r.job.event_id,
                    "attempt": r.job.attempt,
                    "status_code": r.outcome.status_code,
                    "latency_ms": r.outcome.latency_ms,
                    "error": r.error,
                    "next_retry_at": retries[r.job.id],
                    "created_at": now,
                }
                for r in results
                if r.job.id in ours
            ],
        )
        for result in results:
            if result.job.id in ours and result.endpoint.id in to_disable:
                await _disable(session, result.endpoint.id, result.outcome)
                to_disable.discard(result.endpoint.id)
        for endpoint_id in sorted(came_back):
            await _release_backlog(session, endpoint_id, now)
        if went_down:
            await session.execute(
                sa.update(WebhookEndpoint)
                .where(
                    col(WebhookEndpoint.id).in_(sorted(went_down)),
                    col(WebhookEndpoint.failing_since).is_(None),
                )
                .values(failing_since=now, probe_at=now + timedelta(seconds=config.probe_s))
                .execution_options(synchronize_session=False)
            )
        await session.commit()
    for result in results:
        if result.job.id in ours:
            failed = "failed" if retries[result.job.id] is None else "retrying"
            WEBHOOK_DELIVERIES.labels("delivered" if result.outcome.ok else failed).inc()


async def _settle(
    session: AsyncSession,
    results: list[Result],
    retries: dict[int, datetime | None],
    owner: str,
) -> set[int]:
    """Move each delivery to its next state if this process still holds it (same owner and
    attempt count as when claimed); the ids it did."""
    ours: set[int] = set()
    finished: dict[str, list[tuple[int, int]]] = {"succeeded": [], "failed": []}
    for result in results:
        if retries[result.job.id] is None:
            state = "succeeded" if result.outcome.ok else "failed"
            finished[state].append((result.job.id, result.job.attempt))
    held = (col(WebhookDelivery.lease_owner) == owner,)
    for state, keys in finished.items():
        if keys:
            done = await session.execute(
                sa.update(WebhookDelivery)
                .where(
                    sa.tuple_(col(WebhookDelivery.id), col(WebhookDelivery.attempts)).in_(keys),
                    *held,
                )
                .values(state=state, lease_owner=None)
                .returning(col(WebhookDelivery.id))
                .execution_options(synchronize_session=False)
            )
            ours.update(i for i in done.scalars() if i is not None)
    for result in results:
        next_at = retries[result.job.id]
        if next_at is None:
            continue
        later = await session.execute(
            sa.update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == result.job.id,
                col(WebhookDelivery.attempts) == result.job.attempt,
                *held,
            )
            .values(next_attempt_at=next_at, lease_owner=None)
            .returning(col(WebhookDelivery.id))
            .execution_options(synchronize_session=False)
        )
        ours.update(i for i in later.scalars() if i is not None)
    return ours


async def _release_backlog(session: AsyncSession, endpoint_id: str, now: datetime) -> None:
    """The receiver answers again: its waiting retries are due now (their attempt counts
    stay, so the schedule's end is unchanged for a receiver that fails again)."""
    await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.state) == "pending",
            col(WebhookDelivery.lease_owner).is_(None),
            col(WebhookDelivery.next_attempt_at) > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        sa.update(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == endpoint_id)
        .values(failing_since=None, probe_at=None)
        .execution_options(synchronize_session=False)
    )


async def _disable(session: AsyncSession, endpoint_id: str, outcome: Outcome) -> None:
    """Disable the endpoint (once) and tell its owner, in the transaction of the result."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None or not endpoint.enabled:
        return
    reason = f"every attempt of a delivery failed (last: {outcome.error})"[:500]
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = datetime.now(UTC)
    await hooks.record_own_event(
        session=session,
        payload=WebhookEndpointDisabled(endpoint_id=endpoint.id, url=endpoint.url, reason=reason),
        subject={"type": "webhook_endpoint", "id": endpoint.id},
        audiences=_owner_audiences(endpoint),
    )


def _owner_audiences(endpoint: WebhookEndpoint) -> list[str]:
    """Who hears that an endpoint was disabled: its organisation; for an advisor's, the
    advisors of the programmes it served (advisors' feeds show programmes, not orgs)."""
    if endpoint.role != "advisor":
        return [f"org:{endpoint.org}"]
    keys = json.loads(endpoint.audiences)
    return ["country:*" if key == hooks.ALL_ADVISOR_KEYS else key for key in keys]


async def deliver_due(app: FastAPI, *, owner: str = OWNER) -> int:
    """Claim one batch of due deliveries and the probes of receivers that are down, and
    attempt them; how many."""
    jobs = await claim(app.state.sessionmaker, app.state.webhooks, owner=owner)
    jobs += await probe(app.state.sessionmaker, app.state.webhooks, owner=owner)
    return await deliver(app, jobs, owner=owner) if jobs else 0


async def work_once(app: FastAPI, *, owner: str = OWNER) -> int:
    """One round of the worker: fan out new events, then deliver what is due."""
    made = await fan_out(app.state.sessionmaker)
    return made + await deliver_due(app, owner=owner)


# --- the background worker ------------------------------------------------------------


async def start_delivering(app: FastAPI) -> None:
    app.state.webhooks = WebhookConfig(production=app.state.settings.environment == "production")
    # Not the app's service clients: receivers are outside, and redirects are never followed.
    # aiohttp's pool underneath (shared.transport): several times cheaper per request than
    # httpcore's, and a delivery is mostly its request. Redirects are never followed there.
    app.state.webhook_http = httpx.AsyncClient(
        transport=AiohttpTransport(max_connections=100),
        follow_redirects=False,
        timeout=httpx.Timeout(app.state.webhooks.timeout_s),
        trust_env=False,
    )
    start_repeating(
        app, "deliverer", lambda: work_once(app), interval=app.state.settings.events_poll_s
    )


async def stop_delivering(app: FastAPI) -> None:
    await stop_repeating(app, "deliverer")
    client: httpx.AsyncClient | None = getattr(app.state, "webhook_http", None)
    if client is not None:
        await client.aclose()
