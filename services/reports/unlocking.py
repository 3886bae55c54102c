"""The unlock saga: reserve an unlock → pay for it in billing → activate it, compensating
in billing when a step after the payment fails.

It spans two services, so it cannot be one transaction; each step commits on its own:
1. reserve: a `pending` unlock row for (cycle, organisation), committed before billing is
   called. Its id is billing's idempotency key, and a retry (same or new Idempotency-Key,
   after a crash or a lost reply) finds the same pending row and reuses the id, so billing
   replays the first spend instead of spending twice.
2. pay: participants spend one credit (`/internal/credits/spend`, 402 when none left);
   partners claim the factory in the year's footprint (`/internal/footprint/claims`,
   403 when full; an already-claimed factory is free).
3. activate: the row becomes `active`.
Refused payment: the pending row is dropped. A failure after the payment: the credit is
refunded (or the new claim released) and the pending row dropped; if even the refund
fails, the pending row stays, so the next attempt reuses the id and billing replays the
spend it already made: the credit is never lost, and never spent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reports import domain, store, store_access
from services.reports.access import Caller, can_unlock, enforce
from services.reports.clients import BillingClient, FootprintFull, NoCredits
from services.reports.clock import now
from services.reports.models import Unlock
from shared.errors import ApiError, Forbidden, NotFound, PaymentRequired

__all__ = ["UnlockResult", "active_unlock", "unlock_cycle"]

log = logging.getLogger("betterwork.reports.unlock")
ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class UnlockResult:
    unlock: Unlock
    created: bool


@dataclass(frozen=True, slots=True)
class Payment:
    charged_credits: int
    year: int | None
    new_claim: bool = False


async def active_unlock(
    sessionmaker: async_sessionmaker[AsyncSession], *, org: str, factory_id: str, cycle: int
) -> Unlock | None:
    """The organisation's active unlock of the cycle, if it has one."""
    async with sessionmaker() as session:
        found = await store.cycle_with_facts(session, factory_id=factory_id, cycle=cycle, org=org)
    if found is None or found[1].unlock is None or found[1].unlock.status != ACTIVE:
        return None
    return found[1].unlock


async def unlock_cycle(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    caller: Caller,
    factory_id: str,
    cycle: int,
) -> UnlockResult:
    unlock = await _reserve(sessionmaker, caller, factory_id, cycle)
    if unlock.status == ACTIVE:
        return UnlockResult(unlock, created=False)
    payment = await _pay(sessionmaker, billing, caller, unlock)
    try:
        async with sessionmaker() as session:
            active = await store_access.activate_unlock(
                session,
                unlock_id=unlock.id,
                charged_credits=payment.charged_credits,
                year=payment.year,
                now=now(),
            )
            await session.commit()
        if active is None:  # the pending row vanished under us: never keep the payment
            raise RuntimeError(f"pending unlock {unlock.id} disappeared before activation")
    except BaseException:
        await _compensate(sessionmaker, billing, caller, unlock, payment)
        raise
    return UnlockResult(active, created=True)


async def _reserve(
    sessionmaker: async_sessionmaker[AsyncSession], caller: Caller, factory_id: str, cycle: int
) -> Unlock:
    async with sessionmaker() as session:
        found = await store.cycle_with_facts(
            session, factory_id=factory_id, cycle=cycle, org=caller.org
        )
        tpa = (
            found[1].tpa
            if found
            else await store_access.get_tpa(session, factory_id=factory_id, org=caller.org)
        )
        # TPA first: a buyer without it learns nothing about the factory's cycles.
        enforce(can_unlock(caller.principal, factory_id, tpa, caller.membership))
        if found is None:
            raise NotFound(f"Factory {factory_id!r} has no report cycle {cycle}.")
        report_cycle, facts = found
        if facts.unlock is not None and facts.unlock.status == ACTIVE:
            return facts.unlock
        unlock = await store_access.reserve_unlock(
            session, cycle=report_cycle, buyer=caller.principal, now=now()
        )
        await session.commit()
        return unlock


async def _pay(
    sessionmaker: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    caller: Caller,
    unlock: Unlock,
) -> Payment:
    if caller.role == "participant":
        try:
            await billing.spend_credit(
                org=caller.org,
                reference=unlock.id,
                reason=f"unlock of factory {unlock.factory_id}, cycle {unlock.cycle}",
            )
        except NoCredits as exc:
            await _forget(sessionmaker, unlock.id)
            raise PaymentRequired(
                "Your organisation has no report credits left: one credit unlocks one report "
                "cycle. Buy credits (POST /v1/billing/invoices with kind 'credits'); they are "
                "posted once the invoice is paid."
            ) from exc
        except ApiError:
            # Billing may or may not have spent: give back whatever was spent, then drop.
            await _compensate(sessionmaker, billing, caller, unlock, Payment(1, None))
            raise
        return Payment(charged_credits=1, year=None)
    year = domain.footprint_year(now())
    try:
        claim = await billing.claim_footprint(
            org=caller.org, year=year, factory_id=unlock.factory_id, reference=unlock.id
        )
    except FootprintFull as exc:
        await _forget(sessionmaker, unlock.id)
        raise Forbidden(
            f"Your partnership footprint for {year} is full, so a report cycle of a new factory "
            f"cannot be unlocked this year: {exc.detail}"
        ) from exc
    except ApiError:
        await _compensate(sessionmaker, billing, caller, unlock, Payment(0, year, new_claim=True))
        raise
    return Payment(charged_credits=0, year=year, new_claim=claim.new_claim)


async def _compensate(
    sessionmaker: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    caller: Caller,
    unlock: Unlock,
    payment: Payment,
) -> None:
    """Undo the payment, then drop the pending unlock. If billing cannot be reached, keep
    the pending row: a retry reuses its id and billing replays instead of charging again."""
    try:
        if payment.charged_credits:
            await billing.refund_credit(org=caller.org, reference=unlock.id)
        elif payment.new_claim and payment.year is not None:
            await billing.release_footprint(
                org=caller.org, year=payment.year, factory_id=unlock.factory_id, reference=unlock.id
            )
    except Exception:
        log.exception(
            "could not undo the payment of unlock %s; kept pending for a retry", unlock.id
        )
        return
    await _forget(sessionmaker, unlock.id)


async def _forget(sessionmaker: async_sessionmaker[AsyncSession], unlock_id: str) -> None:
    try:
        async with sessionmaker() as session:
            await store_access.forget_unlock(session, unlock_id=unlock_id)
            await session.commit()
    except Exception:  # a leftover pending row is harmless: the next attempt reuses it
        log.exception("could not drop pending unlock %s", unlock_id)
