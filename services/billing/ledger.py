"""The credit ledger and the partner footprint: the queries that move credits and claims.

Concurrency is settled by the database, never by reading and then writing: a debit is one
conditional `UPDATE … SET balance = balance - n WHERE balance >= n` (it takes the account's
row lock, so concurrent spends queue and re-check the balance), in the same transaction as
its ledger entry; the footprint's `used` moves the same way. The caller's session commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.billing.domain import EntryKind
from services.billing.models import CreditAccount, CreditEntry, FootprintClaim, PartnerFootprint
from shared.errors import Conflict, Forbidden, NotFound, PaymentRequired
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "adjust_credits",
    "claim_footprint",
    "credit_balance",
    "footprint_of",
    "list_credit_entries",
    "post_purchase",
    "refund_credit",
    "release_footprint_claim",
    "set_footprint",
    "spend_credit",
]


def _now() -> datetime:
    return datetime.now(UTC)


def _upsert(session: AsyncSession, table: type[Any]) -> Any:
    """INSERT … ON CONFLICT in the session's dialect (the two share this API)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table)


# --- credits ----------------------------------------------------------------------------


async def _credit(session: AsyncSession, *, org: str, amount: int) -> int:
    """Add `amount` credits (opening the account if need be); the new balance."""
    statement = _upsert(session, CreditAccount).values(org=org, balance=amount, updated_at=_now())
    statement = statement.on_conflict_do_update(
        index_elements=[col(CreditAccount.org)],
        set_={
            "balance": col(CreditAccount.balance) + statement.excluded.balance,
            "updated_at": statement.excluded.updated_at,
        },
    ).returning(col(CreditAccount.balance))
    balance: int = (await session.execute(statement)).scalar_one()
    return balance


async def _debit(
    session: AsyncSession,
    *,
    org: str,
    amount: int,
    unless: sa.ColumnElement[bool] | None = None,
) -> int | None:
    """Take `amount` credits if the balance covers them (and `unless` does not hold); the new
    balance, or None (nothing changed). One conditional UPDATE: it takes the account's row
    lock, so concurrent debits queue and each sees the balance the previous one left."""
    conditions = [col(CreditAccount.org) == org, col(CreditAccount.balance) >= amount]
    if unless is not None:
        conditions.append(~unless)
    statement = (
        sa.update(CreditAccount)
        .where(*conditions)
        .values(balance=col(CreditAccount.balance) - amount, updated_at=_now())
        .returning(col(CreditAccount.balance))
        .execution_options(synchronize_session=False)
    )
    balance: int | None = (await session.execute(statement)).scalar_one_or_none()
    return balance


async def _append(
    session: AsyncSession,
    *,
    org: str,
    kind: EntryKind,
    delta: int,
    balance_after: int,
    reference: str,
    reason: str | None,
    by: str,
    entry_id: str | None = None,
) -> CreditEntry:
    entry = CreditEntry(
        id=entry_id or new_id("txn"),
        org=org,
        kind=kind.value,
        delta=delta,
        balance_after=balance_after,
        reference=reference,
        reason=reason,
        created_by=by,
        created_at=_now(),
    )
    try:
        await session.execute(sa.insert(CreditEntry).values(**entry.model_dump()))
    except IntegrityError as exc:
        # Only a concurrent twin (same org, kind and reference) gets here; the transaction
        # rolls back, so the balance is untouched and a retry finds the twin's entry.
        raise Conflict(
            f"A {kind.value} with reference {reference!r} is being recorded at this moment; "
            "retry with the same Idempotency-Key.",
            headers={"Retry-After": "1"},
        ) from exc
    return entry


async def _entry(
    session: AsyncSession, *, org: str, kind: EntryKind, reference: str
) -> CreditEntry | None:
    statement = sa.select(CreditEntry).where(
        col(CreditEntry.org) == org,
        col(CreditEntry.kind) == kind.value,
        col(CreditEntry.reference) == reference,
    )
    entry: CreditEntry | None = (await session.scalars(statement)).first()
    return entry


async def credit_balance(session: AsyncSession, *, org: str) -> int:
    balance = await session.scalar(
        sa.select(col(CreditAccount.balance)).where(col(CreditAccount.org) == org)
    )
    return int(balance or 0)


async def post_purchase(
    session: AsyncSession, *, org: str, credits: int, invoice_id: str, by: str
) -> CreditEntry:
    """The credits of a paid credits invoice (reference: the invoice id)."""
    balance = await _credit(session, org=org, amount=credits)
    return await _append(
        session,
        org=org,
        kind=EntryKind.PURCHASE,
        delta=credits,
        balance_after=balance,
        reference=invoice_id,
        reason=None,
        by=by,
    )


async def spend_credit(
    session: AsyncSession, *, org: str, reference: str, reason: str | None, by: str
) -> CreditEntry:
    """One credit for one unlock. A second spend with the same reference spends nothing and
    returns the first; a zero balance is 402 and changes nothing."""
    # The hot path is one statement: debit unless this reference was already spent.
    already_spent = sa.exists().where(
        col(CreditEntry.org) == org,
        col(CreditEntry.kind) == EntryKind.SPEND.value,
        col(CreditEntry.reference) == reference,
    )
    balance = await _debit(session, org=org, amount=1, unless=already_spent)
    if balance is None:
        earlier = await _entry(session, org=org, kind=EntryKind.SPEND, reference=reference)
        if earlier is not None:
            return earlier
        raise PaymentRequired(
            f"No report credits left: the credit balance of {org} is 0. Buy credits (a credits "
            "invoice, POST /v1/billing/invoices); they are posted when the invoice is paid.",
            balance=0,
        )
    return await _append(
        session,
        org=org,
        kind=EntryKind.SPEND,
        delta=-1,
        balance_after=balance,
        reference=reference,
        reason=reason,
        by=by,
    )


async def refund_credit(session: AsyncSession, *, org: str, reference: str, by: str) -> CreditEntry:
    """Give back the credit spent with `reference`, once: a second refund returns the first."""
    if await _entry(session, org=org, kind=EntryKind.SPEND, reference=reference) is None:
        raise NotFound(f"No credit of {org} was spent with reference {reference!r}.")
    earlier = await _entry(session, org=org, kind=EntryKind.REFUND, reference=reference)
    if earlier is not None:
        return earlier
    balance = await _credit(session, org=org, amount=1)
    return await _append(
        session,
        org=org,
        kind=EntryKind.REFUND,
        delta=1,
        balance_after=balance,
        reference=reference,
        reason=None,
        by=by,
    )


async def adjust_credits(
    session: AsyncSession, *, org: str, delta: int, reason: str, reference: str | None, by: str
) -> CreditEntry:
    """An advisor's correction; a negative one may not take the balance below zero."""
    if delta > 0:
        balance = await _credit(session, org=org, amount=delta)
    else:
        debited = await _debit(session, org=org, amount=-delta)
        if debited is None:
            current = await credit_balance(session, org=org)
            raise Conflict(
                f"Cannot take {-delta} credit(s) from {org}: the balance is {current}, and a "
                "balance never goes below zero.",
                balance=current,
            )
        balance = debited
    entry_id = new_id("txn")
    return await _append(
        session,
        org=org,
        kind=EntryKind.ADJUSTMENT,
        delta=delta,
        balance_after=balance,
        reference=reference or entry_id,
        reason=reason,
        by=by,
        entry_id=entry_id,
    )


async def list_credit_entries(
    session: AsyncSession, *, org: str, page: PageParams
) -> tuple[list[CreditEntry], str | None]:
    """Newest first (ids sort by time), keyset-paginated."""
    statement = sa.select(CreditEntry).where(col(CreditEntry.org) == org)
    key = [sort_key(CreditEntry.id, str)]
    return await paginate(session, statement, page, key=key, descending=True)


# --- footprint --------------------------------------------------------------------------


async def footprint_of(session: AsyncSession, *, org: str, year: int) -> PartnerFootprint | None:
    return await session.get(PartnerFootprint, (org, year), populate_existing=True)


async def set_footprint(
    session: AsyncSession, *, org: str, year: int, footprint: int, invoice_id: str
) -> None:
    """The factory count of a paid partnership invoice becomes the footprint of its year
    (one open partnership invoice per partner and year, so this is the only one)."""
    await session.execute(
        sa.insert(PartnerFootprint).values(
            org=org, year=year, footprint=footprint, used=0, invoice_id=invoice_id, set_at=_now()
        )
    )


async def _claim_of(
    session: AsyncSession, *, org: str, year: int, factory_id: str
) -> FootprintClaim | None:
    statement = sa.select(FootprintClaim).where(
        col(FootprintClaim.org) == org,
        col(FootprintClaim.year) == year,
        col(FootprintClaim.factory_id) == factory_id,
    )
    claim: FootprintClaim | None = (await session.scalars(statement)).first()
    return claim


async def _move_used(
    session: AsyncSession, *, org: str, year: int, by: int
) -> tuple[int, int] | None:
    """`used += by` if it stays within 0..footprint; (footprint, used) or None (no change)."""
    used = col(PartnerFootprint.used)
    statement = (
        sa.update(PartnerFootprint)
        .where(col(PartnerFootprint.org) == org, col(PartnerFootprint.year) == year)
        .where(used + by <= col(PartnerFootprint.footprint), used + by >= 0)
        .values(used=used + by)
        .returning(col(PartnerFootprint.footprint), used)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).first()
    return (int(row[0]), int(row[1])) if row else None


async def claim_footprint(
    session: AsyncSession, *, org: str, year: int, factory_id: str, reference: str
) -> tuple[int, int, bool]:
    """Count `factory_id` in the partner's footprint for `year`: (footprint, used, new_claim).
    A factory already counted is free; a full footprint is 403 with the numbers."""
    if await _claim_of(session, org=org, year=year, factory_id=factory_id) is None:
        taken = await _take_slot(
            session, org=org, year=year, factory_id=factory_id, reference=reference
        )
        if taken is not None:
            return taken[0], taken[1], True
    row = await footprint_of(session, org=org, year=year)
    return (row.footprint, row.used, False) if row else (0, 0, False)


async def _take_slot(
    session: AsyncSession, *, org: str, year: int, factory_id: str, reference: str
) -> tuple[int, int] | None:
    """Use one more slot of the footprint for `factory_id`: (footprint, used), or None when a
    concurrent claim of the same factory got there first (then ours is free)."""
    moved = await _move_used(session, org=org, year=year, by=1)
    # The UPDATE waited for any concurrent claim of this partner and year to commit, so this
    # read sees a claim of the same factory made meanwhile.
    if await _claim_of(session, org=org, year=year, factory_id=factory_id) is not None:
        if moved is not None:
            await _move_used(session, org=org, year=year, by=-1)
        return None
    if moved is None:
        row = await footprint_of(session, org=org, year=year)
        footprint, used = (row.footprint, row.used) if row else (0, 0)
        why = "" if row else " (no paid partnership invoice for that year)"
        raise Forbidden(
            f"The footprint of {org} for {year} is full: {used} of {footprint} factories are "
            f"already unlocked this year{why}, so {factory_id} cannot be added.",
            footprint=footprint,
            used=used,
        )
    await session.execute(
        sa.insert(FootprintClaim).values(
            org=org, year=year, factory_id=factory_id, reference=reference, created_at=_now()
        )
    )
    return moved


async def release_footprint_claim(
    session: AsyncSession, *, org: str, year: int, factory_id: str, reference: str
) -> tuple[int, int]:
    """Undo the claim made with `reference` (saga compensation); (footprint, used)."""
    released = await session.execute(
        sa.delete(FootprintClaim)
        .where(
            col(FootprintClaim.org) == org,
            col(FootprintClaim.year) == year,
            col(FootprintClaim.factory_id) == factory_id,
            col(FootprintClaim.reference) == reference,
        )
        .returning(col(FootprintClaim.factory_id))
        .execution_options(synchronize_session=False)
    )
    if released.first() is not None:
        await _move_used(session, org=org, year=year, by=-1)
    row = await footprint_of(session, org=org, year=year)
    return (row.footprint, row.used) if row else (0, 0)
