"""The unlock saga: reserve an unlock → pay for it in billing → activate it, compensating
in billing when a step after the payment fails.

It spans two services, so it cannot be one transaction; each step commits on its own:
1. reserve: a `pending` unlock row for (cycle, organisation), committed before billing is
   called, and held by this attempt (one attempt at a time: a concurrent one gets 409).
   The row's id is billing's idempotency key, and a later attempt (same or new
   Idempotency-Key, after a crash or a lost reply) takes the same row over and reuses the
   id, so billing replays the first spend instead of spending twice.
2. pay: participants spend one credit (`/internal/credits/spend`, 402 when none left);
   partners claim the factory in the year's footprint (`/internal/footprint/claims`,
   403 when full; an already-claimed factory is free).
3. activate: the row becomes `active`.
Refused payment: the pending row is dropped. A failure after the payment (or a payment
whose outcome is unknown): the credit is refunded (or the new claim released) and the row
dropped; if even that fails, the row stays for the next attempt, whose spend billing
replays: a credit is never lost, and never spent twice. Only the attempt holding the row
compensates, so it can never give back a payment another attempt relies on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reports import domain, store, store_access
from services.reports.access import Caller, can_unlock, enforce
from services.reports.clients import BillingClient, FootprintFull, NoCredits, SpendInProgress
from services.reports.clock import now
from services.reports.models import ReportCycle, Unlock
from services.reports.store import Facts
from shared.errors import ApiError, Conflict, Forbidden, NotFound, PaymentRequired
from shared.ids import new_id

__all__ = ["Target", "UnlockResult", "look_up", "unlock_cycle"]

log = logging.getLogger("betterwork.reports.unlock")
ACTIVE = "active"
# An attempt silent for this long is taken to have died (billing calls time out sooner).
ATTEMPT_LEASE = timedelta(seconds=30)
BUSY = (
    "This report cycle is being unlocked for your organisation by another request right "
    "now; retry in a moment (it will answer with that unlock, at no further charge)."
)


@dataclass(frozen=True, slots=True)
class UnlockResult:
    unlock: Unlock
    created: bool


@dataclass(frozen=True, slots=True)
class Payment:
    charged_credits: int
    year: int | None
    new_claim: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    """One run of the saga for one pending unlock."""

    id: str
    unlock: Unlock
    caller: Caller
    sessionmaker: async_sessionmaker[AsyncSession]
    billing: BillingClient


@dataclass(frozen=True, slots=True)
class Target:
    """The cycle to unlock (None: no such cycle) and the caller's facts on it."""

    cycle: ReportCycle | None
    facts: Facts

    @property
    def active_unlock(self) -> Unlock | None:
        unlock = self.facts.unlock
        return unlock if unlock is not None and unlock.status == ACTIVE else None


async def look_up(
    sessionmaker: async_sessionmaker[AsyncSession], *, org: str, factory_id: str, cycle: int
) -> Target:
    """The cycle and what the organisation holds on it, read once for the whole request."""
    async with sessionmaker() as session:
        found = await store.cycle_with_facts(session, factory_id=factory_id, cycle=cycle, org=org)
        if found is not None:
            return Target(found[0], found[1])
        tpa = await store_access.get_tpa(session, factory_id=factory_id, org=org)
        return Target(None, Facts(tpa=tpa))


async def unlock_cycle(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    caller: Caller,
    target: Target,
    factory_id: str,
) -> UnlockResult:
    if target.active_unlock is not None:
        return UnlockResult(target.active_unlock, created=False)  # free, whatever the TPA now
    # TPA before the cycle: a buyer without it learns nothing about the factory's cycles.
    enforce(can_unlock(caller.principal, factory_id, target.facts.tpa, caller.membership))
    if target.cycle is None:
        raise NotFound(f"Factory {factory_id!r} has no such report cycle.")
    attempt_id = new_id("att")
    unlock = await _reserve(sessionmaker, caller, target.cycle, attempt_id)
    if unlock.status == ACTIVE:
        return UnlockResult(unlock, created=False)
    attempt = Attempt(attempt_id, unlock, caller, sessionmaker, billing)
    payment = await _pay(attempt)
    try:
        async with sessionmaker() as session:
            active = await store_access.activate_unlock(
                session,
                unlock_id=unlock.id,
                attempt=attempt_id,
                charged_credits=payment.charged_credits,
                year=payment.year,
                now=now(),
            )
            await session.commit()
    except BaseException:
        await _compensate(attempt, payment)
        raise
    if active is None:
        # Our lease ran out and a later attempt took the unlock over: it pays with the same
        # id (billing replays), so there is nothing of ours to undo.
        raise Conflict(BUSY, headers={"Retry-After": "1"})
    return UnlockResult(active, created=True)


async def _reserve(
    sessionmaker: async_sessionmaker[AsyncSession],
    caller: Caller,
    cycle: ReportCycle,
    attempt_id: str,
) -> Unlock:
    async with sessionmaker() as session:
        moment = now()
        unlock = await store_access.reserve_unlock(
            session,
            cycle=cycle,
            buyer=caller.principal,
            attempt=attempt_id,
            now=moment,
            stale_before=moment - ATTEMPT_LEASE,
        )
        await session.commit()
    if unlock is None:
        raise Conflict(BUSY, headers={"Retry-After": "1"})
    return unlock


async def _pay(attempt: Attempt) -> Payment:
    caller, unlock, billing = attempt.caller, attempt.unlock, attempt.billing
    if caller.role == "participant":
        try:
            await billing.spend_credit(
                org=caller.org,
                reference=unlock.id,
                reason=f"unlock of factory {unlock.factory_id}, cycle {unlock.cycle}",
            )
        except NoCredits as exc:
            await _forget(attempt)
            raise PaymentRequired(
                "Your organisation has no report credits left: one credit unlocks one report "
                "cycle. Buy credits (POST /v1/billing/invoices with kind 'credits'); they are "
                "posted once the invoice is paid.",
                balance=0,
            ) from exc
        except SpendInProgress as exc:  # an attempt whose lease ran out is still paying
            raise Conflict(BUSY, headers={"Retry-After": "1"}) from exc
        except ApiError:
            # Billing may or may not have spent: give back whatever was spent, then drop.
            await _compensate(attempt, Payment(1, None))
            raise
        return Payment(charged_credits=1, year=None)
    year = domain.footprint_year(now())
    try:
        claim = await billing.claim_footprint(
            org=caller.org, year=year, factory_id=unlock.factory_id, reference=unlock.id
        )
    except FootprintFull as exc:
        await _forget(attempt)
        raise _footprint_full(year, exc) from exc
    except ApiError:
        await _compensate(attempt, Payment(0, year, new_claim=True))
        raise
    return Payment(charged_credits=0, year=year, new_claim=claim.new_claim)


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


async def _compensate(attempt: Attempt, payment: Payment) -> None:
    """Undo the payment, then drop the pending unlock. If billing cannot be reached, keep
    the row for the next attempt (billing will replay its payment, not charge again)."""
    caller, unlock, billing = attempt.caller, attempt.unlock, attempt.billing
    try:
        if payment.charged_credits:
            await billing.refund_credit(org=caller.org, reference=unlock.id)
        elif payment.new_claim and payment.year is not None:
            await billing.release_footprint(
                org=caller.org, year=payment.year, factory_id=unlock.factory_id, reference=unlock.id
            )
    except Exception:
        log.exception("could not undo the payment of unlock %s; kept for a retry", unlock.id)
        await _step(attempt, store_access.release_unlock_attempt)
        return
    await _forget(attempt)


async def _forget(attempt: Attempt) -> None:
    await _step(attempt, store_access.forget_unlock)


async def _step(attempt: Attempt, change: store_access.UnlockChange) -> None:
    """A compensation step in a transaction of its own; if the database fails here too, the
    row stays pending and the next attempt takes it over once this one's lease runs out."""
    try:
        async with attempt.sessionmaker() as session:
            await change(session, unlock_id=attempt.unlock.id, attempt=attempt.id)
            await session.commit()
    except Exception:
        log.exception("could not update pending unlock %s", attempt.unlock.id)
