"""The credit ledger and the partner footprint: the queries that move credits and claims.

Concurrency is settled by the database, never by reading and then writing: a debit is one
conditional `UPDATE … SET balance = balance - n WHERE balance >= n` (it takes the account's
row lock, so concurrent spends queue and re-check the balance), in the same transaction as
its ledger entry; the footprint's `used` moves the same way. The caller's session commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.billing import events
from services.billing.domain import EntryKind
from services.billing.models import CreditAccount, CreditEntry, PartnerFootprint
from shared import clock
from shared.db import insert_row
from shared.errors import Conflict
from shared.ids import new_id
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "add_credits",
    "adjust_credits",
    "append_entry",
    "credit_balance",
    "footprint_of",
    "list_credit_entries",
    "post_purchase",
    "set_footprint",
    "take_credits",
    "twin_conflict",
]


def upsert(*, session: AsyncSession, table: type[Any]) -> Any:
    """INSERT … ON CONFLICT in the session's dialect (the two share this API)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table)


# --- credits ----------------------------------------------------------------------------


async def add_credits(*, session: AsyncSession, org: str, amount: int) -> int:
    """Add `amount` credits (opening the account if need be); the new balance."""
    statement = upsert(session=session, table=CreditAccount).values(
        org=org, balance=amount, updated_at=clock.now()
    )
    statement = statement.on_conflict_do_update(
        index_elements=[col(CreditAccount.org)],
        set_={
            "balance": col(CreditAccount.balance) + statement.excluded.balance,
            "updated_at": statement.excluded.updated_at,
        },
    ).returning(col(CreditAccount.balance))
    balance: int = (await session.execute(statement)).scalar_one()
    return balance


async def take_credits(
    *,
    session: AsyncSession,
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
        .values(balance=col(CreditAccount.balance) - amount, updated_at=clock.now())
        .returning(col(CreditAccount.balance))
        .execution_options(synchronize_session=False)
    )
    balance: int | None = (await session.execute(statement)).scalar_one_or_none()
    return balance


async def append_entry(
    *,
    session: AsyncSession,
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
        created_at=clock.now(),
    )
    try:
        await insert_row(session, entry)
    except IntegrityError as exc:
        raise twin_conflict(kind, reference) from exc
    return entry


def twin_conflict(kind: EntryKind, reference: str) -> Conflict:
    """An entry's INSERT met a concurrent twin (same org, kind and reference): the
    transaction rolls back, so the balance is untouched and a retry finds the twin's entry."""
    return Conflict(
        f"A {kind.value} with reference {reference!r} is being recorded at this moment; "
        "retry with the same Idempotency-Key.",
        headers={"Retry-After": "1"},
    )


async def credit_balance(*, session: AsyncSession, org: str) -> int:
    balance = await session.scalar(
        sa.select(col(CreditAccount.balance)).where(col(CreditAccount.org) == org)
    )
    return int(balance or 0)


async def post_purchase(
    *, session: AsyncSession, org: str, credits: int, invoice_id: str, by: str
) -> CreditEntry:
    """The credits of a paid credits invoice (reference: the invoice id)."""
    balance = await add_credits(session=session, org=org, amount=credits)
    return await append_entry(
        session=session,
        org=org,
        kind=EntryKind.PURCHASE,
        delta=credits,
        balance_after=balance,
        reference=invoice_id,
        reason=None,
        by=by,
    )


async def adjust_credits(
    *, session: AsyncSession, org: str, delta: int, reason: str, reference: str | None, by: str
) -> CreditEntry:
    """An advisor's correction; a negative one may not take the balance below zero."""
    if delta > 0:
        balance = await add_credits(session=session, org=org, amount=delta)
    else:
        debited = await take_credits(session=session, org=org, amount=-delta)
        if debited is None:
            current = await credit_balance(session=session, org=org)
            raise Conflict(
                f"Cannot take {-delta} credit(s) from {org}: the balance is {current}, and a "
                "balance never goes below zero.",
                balance=current,
            )
        balance = debited
        if balance == 0:  # the correction took the last credit
            await events.credits_exhausted(session, org=org)
    entry_id = new_id("txn")
    return await append_entry(
        session=session,
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
    *, session: AsyncSession, org: str, page: PageParams
) -> tuple[list[CreditEntry], str | None]:
    """Newest first (ids sort by time), keyset-paginated."""
    statement = sa.select(CreditEntry).where(col(CreditEntry.org) == org)
    key = [sort_key(CreditEntry.id, str)]
    return await paginate(session, statement, page, key=key, descending=True)


# --- footprint --------------------------------------------------------------------------


async def footprint_of(*, session: AsyncSession, org: str, year: int) -> PartnerFootprint | None:
    return await session.get(PartnerFootprint, (org, year), populate_existing=True)


async def set_footprint(
    *, session: AsyncSession, org: str, year: int, footprint: int, invoice_id: str
) -> None:
    """The factory count of a paid partnership invoice becomes the footprint of its year
    (one open partnership invoice per partner and year, so this is the only one)."""
    await session.execute(
        sa.insert(PartnerFootprint).values(
            org=org,
            year=year,
            footprint=footprint,
            used=0,
            invoice_id=invoice_id,
            set_at=clock.now(),
        )
    )
