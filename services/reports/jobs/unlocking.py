"""The unlock saga: reserve an unlock → pay for it in billing → activate it.

It spans two services, so it cannot be one transaction. What holds it together:

- **The invariant.** An unlock is active only if exactly one held charge in billing stands
  behind it (`payment_reference`), and every held charge has exactly one active unlock.
- **One reference per attempt, used once.** A pending unlock is run by one attempt at a
  time (a lease on the row); attempt n pays with its own reference (`<unlock id>.<n>`).
  Billing gives each reference one final outcome: a charge with it is held, replayed if
  repeated, and once the reference is cancelled it can never charge, however late or often
  the request arrives. So a lost reply, a retry or a duplicate can never pay twice, and
  nothing that was given back can be "replayed" into a free unlock.
- **Cancel before paying.** An attempt that takes a pending unlock over first cancels every
  earlier attempt's reference in billing (a held one is given back), then pays with its
  own; only the attempt holding the row activates it, with its own reference.
- **Give up by cancelling.** A refused payment, a failed one, or an unknown outcome: the
  attempt cancels its reference, then drops the row. If billing cannot be reached, the row
  is let go and the next attempt, or the recovery sweep, cancels it.
- **The sweep** (`recover`) takes over pending unlocks whose attempt died (kill -9, lost
  database, lease run out), cancels their references and drops them: a payment never
  stays held without its unlock for longer than a lease and a sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reports import domain, events
from services.reports.clients import BillingClient, ChargeCancelled, FootprintFull, NoCredits
from services.reports.domain.access import Caller, can_unlock, enforce
from services.reports.models import Unlock, payment_reference_of
from services.reports.schemas import shapes
from services.reports.store import access as store_access
from shared.background import start_repeating, stop_repeating
from shared.clock import now
from shared.errors import ApiError, Conflict, Forbidden, NotFound, PaymentRequired
from shared.idempotency import StoredReply
from shared.metrics import UNLOCKS

__all__ = [
    "Target",
    "UnlockResult",
    "look_up",
    "recover",
    "start_recovery",
    "unlock_cycle",
]

log = logging.getLogger("betterwork.reports.unlock")
ACTIVE, PENDING = "active", "pending"
CREDIT, FOOTPRINT = "credit", "footprint"
BUSY = (
    "This report cycle is being unlocked for your organisation by another request right "
    "now; retry in a moment (it will answer with that unlock, at no further charge)."
)


@dataclass(frozen=True, slots=True)
class UnlockResult:
    unlock: Unlock
    created: bool


Target = store_access.UnlockTarget


@dataclass(frozen=True, slots=True)
class Attempt:
    """Attempt `unlock.attempt_no` of a pending unlock, holding its row.

    `sessionmaker` is the autocommit one: every step of the saga is one statement that
    stands alone, the activation too on PostgreSQL (with its `unlock.created` event and the
    request's reply: no active unlock without its event, no event for an activation that
    did not happen). `transactional` runs the activation where it takes several statements
    (SQLite); None for the recovery sweep, which never activates. `country` is the cycle's,
    for the event's advisor audience; `reply`, the request's, is stored with the activation."""

    unlock: Unlock
    sessionmaker: async_sessionmaker[AsyncSession]
    billing: BillingClient
    transactional: async_sessionmaker[AsyncSession] | None = None
    country: str | None = None
    reply: StoredReply | None = None

    @property
    def number(self) -> int:
        return self.unlock.attempt_no

    @property
    def reference(self) -> str:
        return payment_reference_of(self.unlock.id, self.number)

    @property
    def kind(self) -> str:
        return CREDIT if self.unlock.buyer_role == "participant" else FOOTPRINT

    def references_through(self, last: int) -> list[str]:
        """The references not known cancelled, from the first such attempt to `last`."""
        first = self.unlock.cancelled_through + 1
        return [payment_reference_of(self.unlock.id, n) for n in range(first, last + 1)]


async def look_up(
    sessionmaker: async_sessionmaker[AsyncSession], *, org: str, factory_id: str, cycle: int
) -> Target:
    """The cycle and what the organisation holds on it, read once for the whole request."""
    async with sessionmaker() as session:
        return await store_access.unlock_target(
            session=session, factory_id=factory_id, cycle=cycle, org=org
        )


async def unlock_cycle(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    transactional: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    caller: Caller,
    target: Target,
    factory_id: str,
    lease: timedelta,
    reply: StoredReply | None = None,
) -> UnlockResult:
    """Run the saga for the caller's unlock of the target cycle. `reply` (the request's
    idempotent reply) is stored with the activation, if this request activates the unlock."""
    if target.active_unlock is not None:
        return UnlockResult(target.active_unlock, created=False)  # free, whatever the TPA now
    # TPA before the cycle: a buyer without it learns nothing about the factory's cycles.
    enforce(can_unlock(caller.principal, factory_id, target.tpa, caller.membership))
    if target.cycle is None:
        raise NotFound(f"Factory {factory_id!r} has no such report cycle.")
    unlock = await _reserve(sessionmaker, caller, target.cycle, lease)
    if unlock.status == ACTIVE:
        return UnlockResult(unlock, created=False)
    attempt = Attempt(unlock, sessionmaker, billing, transactional, target.cycle.country, reply)
    try:
        await _cancel_earlier(attempt)
        year = await _pay(attempt)
        result = UnlockResult(await _activate(attempt, year), created=True)
    except BaseException as exc:
        UNLOCKS.labels(_outcome(exc)).inc()
        raise
    UNLOCKS.labels("unlocked").inc()
    return result


def _outcome(exc: BaseException) -> str:
    """The saga's outcome for the metrics: refused (no credits, footprint full), busy
    (another attempt holds it), unavailable (billing or the database failed; compensated)."""
    if isinstance(exc, PaymentRequired | Forbidden):
        return "refused"
    if isinstance(exc, Conflict):
        return "busy"
    return "failed"


async def _reserve(
    sessionmaker: async_sessionmaker[AsyncSession],
    caller: Caller,
    cycle: store_access.CycleRef,
    lease: timedelta,
) -> Unlock:
    async with sessionmaker() as session:
        moment = now()
        unlock = await store_access.reserve_unlock(
            session=session,
            cycle=cycle,
            buyer=caller.principal,
            now=moment,
            stale_before=moment - lease,
        )
        await session.commit()
    if unlock is None:
        raise Conflict(BUSY, headers={"Retry-After": "1"})
    return unlock


async def _cancel_earlier(attempt: Attempt) -> None:
    """Cancel the references of the attempts before this one (taken over after they died or
    let go): a held one is given back, the others can never charge."""
    references = attempt.references_through(attempt.number - 1)
    if not references:
        return
    try:
        await _cancel(attempt, references)
    except ApiError:
        await _step(attempt, store_access.release_unlock_attempt)
        raise


async def _pay(attempt: Attempt) -> int | None:
    """Charge this attempt's reference; the footprint year for partners."""
    unlock = attempt.unlock
    year = domain.footprint_year(now()) if attempt.kind == FOOTPRINT else None
    try:
        await attempt.billing.charge(
            org=unlock.buyer_org,
            reference=attempt.reference,
            kind=attempt.kind,
            factory_id=unlock.factory_id,
            year=year,
            reason=f"unlock of factory {unlock.factory_id}, cycle {unlock.cycle}",
        )
    except NoCredits as exc:
        await _give_up(attempt)
        raise PaymentRequired(
            "Your organisation has no report credits left: one credit unlocks one report "
            "cycle. Buy credits (POST /v1/billing/invoices with kind 'credits'); they are "
            "posted once the invoice is paid.",
            balance=0,
        ) from exc
    except FootprintFull as exc:
        await _give_up(attempt)
        raise _footprint_full(year or 0, exc) from exc
    except ChargeCancelled as exc:
        # A later attempt took the unlock over and cancelled this reference: nothing was
        # charged, and that attempt answers for the unlock.
        raise Conflict(BUSY, headers={"Retry-After": "1"}) from exc
    except ApiError:
        # Billing may or may not have charged: cancelling settles it either way.
        await _give_up(attempt)
        raise
    return year


async def _activate(attempt: Attempt, year: int | None) -> Unlock:
    """Pending → active with its `unlock.created` event and the request's reply, committed
    together: one statement on PostgreSQL (`store_access.activate_unlock`), a transaction
    elsewhere. The active row is known before it is written (the reserved row, paid), so
    the reply and the event are built from it here, not read back."""
    unlock = attempt.unlock
    if attempt.transactional is None:
        raise RuntimeError("an unlock is activated only by a request's attempt")
    moment = now()
    active = Unlock(
        **{
            **_columns(unlock),
            "status": ACTIVE,
            "payment_reference": attempt.reference,
            "charged_credits": 1 if attempt.kind == CREDIT else 0,
            "footprint_year": year,
            "completed_at": moment,
            "cancelled_through": attempt.number - 1,
            "attempt_started_at": None,
        }
    )
    reply = attempt.reply
    sessionmaker = attempt.sessionmaker if _one_statement(attempt) else attempt.transactional
    try:
        event = events.unlock_created(active, country=attempt.country)
        async with sessionmaker() as session:
            activated = await store_access.activate_unlock(
                session=session,
                active=active,
                attempt_no=attempt.number,
                event=event,
                reply=reply,
                reply_result=None if reply is None else shapes.unlock(active),
                now=moment,
            )
            await session.commit()
    except BaseException:
        # The commit may have happened even so: settle by what the row says, not by guess.
        await _settle_unknown_activation(attempt)
        raise
    if not activated:
        # The lease ran out and a later attempt took the row over: it cancels this
        # attempt's reference (giving the payment back) before it pays with its own.
        raise Conflict(BUSY, headers={"Retry-After": "1"})
    return active


def _columns(unlock: Unlock) -> dict[str, Any]:
    return {column.name: getattr(unlock, column.name) for column in _UNLOCK_COLUMNS}


_UNLOCK_COLUMNS = list(Unlock.__table__.columns)  # type: ignore[attr-defined]


def _one_statement(attempt: Attempt) -> bool:
    """Whether the activation is one statement (PostgreSQL), run in the autocommit session."""
    return bool(attempt.sessionmaker.kw["bind"].dialect.name == "postgresql")


async def _settle_unknown_activation(attempt: Attempt) -> None:
    """After a failed activation: if the row is still this attempt's pending one, give the
    payment up; if it is active, it is paid for and stays; if it cannot be read, leave it
    to the next attempt or the sweep (which see the row as it really is)."""
    try:
        async with attempt.sessionmaker() as session:
            row = await session.get(Unlock, attempt.unlock.id, populate_existing=True)
    except Exception:
        log.exception("unlock %s: activation outcome unknown; left to recovery", attempt.unlock.id)
        return
    if row is not None and row.status == PENDING and row.attempt_no == attempt.number:
        await _give_up(attempt)


async def _give_up(attempt: Attempt) -> None:
    """Cancel this attempt's reference (and any earlier one not yet cancelled), then drop
    the pending row; if billing cannot be reached, let the row go for the next attempt."""
    try:
        await _cancel(attempt, attempt.references_through(attempt.number))
    except ApiError:
        log.warning("unlock %s: could not cancel %s; left to recovery", *_names(attempt))
        await _step(attempt, store_access.release_unlock_attempt)
        return
    await _step(attempt, store_access.forget_unlock)


async def _cancel(attempt: Attempt, references: list[str]) -> None:
    await attempt.billing.cancel(
        org=attempt.unlock.buyer_org,
        kind=attempt.kind,
        factory_id=attempt.unlock.factory_id,
        references=references,
    )


def _names(attempt: Attempt) -> tuple[str, str]:
    return attempt.unlock.id, attempt.reference


async def _step(attempt: Attempt, change: store_access.UnlockChange) -> None:
    """A compensation step in a transaction of its own; if the database fails here too, the
    row stays pending and is taken over once this attempt's lease runs out."""
    try:
        async with attempt.sessionmaker() as session:
            await change(session=session, unlock_id=attempt.unlock.id, attempt_no=attempt.number)
            await session.commit()
    except Exception:
        log.exception("could not update pending unlock %s", attempt.unlock.id)


def _footprint_full(year: int, exc: FootprintFull) -> Forbidden:
    numbers = (
        f"{exc.used} of {exc.footprint} factories are used"
        if exc.footprint is not None and exc.used is not None
        else exc.detail
    )
    return Forbidden(
        f"Your partnership footprint for {year} is full ({numbers}), so a report cycle of "
        "another factory cannot be unlocked this year; cycles of factories already counted "
        "this year still can.",
        footprint=exc.footprint,
        used=exc.used,
        year=year,
    )


# --- recovery ----------------------------------------------------------------------------


async def recover(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    lease: timedelta,
    limit: int = 100,
) -> int:
    """Take over the pending unlocks whose attempt died or let go, cancel their references
    and drop them; how many were settled. Safe to run in every replica at once: a row is
    taken over by one of them only."""
    async with sessionmaker() as session:
        moment = now()
        taken = await store_access.take_over_stale(
            session=session, now=moment, stale_before=moment - lease, limit=limit
        )
        await session.commit()
    settled = 0
    for unlock in taken:
        attempt = Attempt(unlock, sessionmaker, billing)
        try:
            # Through the sweep's own number too: nothing may ever charge with it.
            await _cancel(attempt, attempt.references_through(attempt.number))
        except ApiError:
            log.warning("recovery: could not cancel the payments of unlock %s", unlock.id)
            await _step(attempt, store_access.release_unlock_attempt)
            continue
        await _step(attempt, store_access.forget_unlock)
        settled += 1
    if settled:
        UNLOCKS.labels("recovered").inc(settled)
    if taken:
        log.info("recovery: settled %d of %d stale pending unlocks", settled, len(taken))
    return settled


async def start_recovery(app: FastAPI) -> None:
    """Start-up hook: sweep every third of a lease, for as long as the process runs."""
    lease = timedelta(seconds=app.state.settings.unlock_lease_s)

    async def sweep() -> int:
        return await recover(
            sessionmaker=app.state.autocommit, billing=app.state.billing, lease=lease
        )

    start_repeating(app, "recovery", sweep, interval=lease.total_seconds() / 3)


async def stop_recovery(app: FastAPI) -> None:
    await stop_repeating(app, "recovery")
