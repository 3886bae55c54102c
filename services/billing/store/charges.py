"""Charges: what an unlock of a report cycle is paid with, one reference per payment attempt.

The reports service runs the unlock saga; each attempt names its payment with a reference
of its own and never reuses it. Here a reference has one final outcome:
- `charge`: a participant's credit is spent (a `spend` entry in the ledger), or a partner's
  factory is counted in its footprint for the year (a slot, shared by every held charge of
  that factory and year). Repeating it replays the charge; 402/403 change nothing.
  The charge that spends the last credit records `credits.exhausted`, the claim that takes
  the footprint's last slot `footprint.full`, in its transaction (services/billing/events.py);
  a replay or a refusal records nothing. A slot freed and taken again fills the footprint
  again: a new `footprint.full`.
- `cancel`: a held charge is given back (`released`: a `refund` entry, or the factory's slot
  freed once no other held charge needs it); a reference never charged is marked
  `cancelled`, so a request that was delayed or duplicated on the way charges nothing when
  it finally arrives. Repeating it changes nothing.

Concurrency is settled by the database: the charge row's primary key serialises a charge and
a cancel of one reference (the second INSERT waits for the first to commit), the account's
conditional UPDATE serialises credit spends, and the footprint row's lock serialises the
slot decisions of one partner and year. The caller's session commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.billing import events
from services.billing.domain import EntryKind
from services.billing.models import Charge, CreditAccount, CreditEntry, PartnerFootprint
from services.billing.store import ledger
from shared import clock
from shared.errors import Conflict, Forbidden, PaymentRequired
from shared.ids import new_id
from shared.metrics import LEDGER_CHANGES
from shared.outbox import gated_record_parameters, gated_record_sql
from shared.pagination import PageParams, paginate, sort_key

__all__ = [
    "CREDIT",
    "FOOTPRINT",
    "Cancelled",
    "ChargeResult",
    "Discrepancy",
    "cancel",
    "charge",
    "check",
    "list_charges",
    "one_statement",
]

CREDIT = "credit"
FOOTPRINT = "footprint"
HELD = "held"
RELEASED = "released"
CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ChargeResult:
    charge: Charge
    balance: int | None = None  # credits left (credit charges)
    footprint: int | None = None  # the year's footprint and distinct factories used
    used: int | None = None
    new_claim: bool = False  # this charge took a new footprint slot


@dataclass(frozen=True, slots=True)
class Cancelled:
    reference: str
    state: str  # what the reference is now: released or cancelled
    given_back: bool  # this call gave back a held credit or slot


@dataclass(frozen=True, slots=True)
class Discrepancy:
    code: str
    org: str
    detail: str
    reference: str | None = None
    year: int | None = None


# --- charge ------------------------------------------------------------------------------


async def charge(
    *,
    session: AsyncSession,
    org: str,
    reference: str,
    kind: str,
    factory_id: str,
    year: int | None,
    reason: str | None,
    by: str,
) -> ChargeResult:
    moment = clock.now()
    row = Charge(
        org=org,
        reference=reference,
        kind=kind,
        factory_id=factory_id,
        year=year if kind == FOOTPRINT else None,
        state=HELD,
        created_at=moment,
        updated_at=moment,
    )
    if kind == CREDIT and session.get_bind().dialect.name == "postgresql":
        return await _charge_credit_at_once(session=session, row=row, reason=reason, by=by)
    statement = (
        ledger.upsert(session=session, table=Charge)
        .values(**row.model_dump())
        .on_conflict_do_nothing(index_elements=[col(Charge.org), col(Charge.reference)])
        .returning(col(Charge.reference))
    )
    if (await session.execute(statement)).first() is None:
        return await _replay(session=session, org=org, reference=reference, kind=kind)
    if kind == CREDIT:
        result = await _spend_credit(session=session, row=row, reason=reason, by=by)
    else:
        assert year is not None  # the request schema requires it for footprint charges
        result = await _claim_slot(session=session, row=row, year=year)
    LEDGER_CHANGES.labels("charge", kind).inc()
    return result


# A credit charge on PostgreSQL in one statement (data-modifying CTEs, one snapshot), which
# commits on its own in an autocommit session (`one_statement`: no BEGIN and COMMIT round
# trips): the debit, only if the reference is new (the account's row lock queues concurrent
# spends, each re-checking the balance); the charge row and its ledger entry, only if the
# debit happened; the `credits.exhausted` event if it took the last credit. A known
# reference (a replay) or no credits: nothing is written. A concurrent twin of the same
# reference, new to both: the second fails on the charge's key once the first commits, and
# nothing of it is written (it is then replayed).
_CREDIT_CHARGE = sa.text(
    f"""
    WITH known AS (
        SELECT FROM charge WHERE org = :org AND reference = :reference
    ), spent AS (
        UPDATE credit_account SET balance = balance - 1, updated_at = :now
        WHERE org = :org AND balance >= 1 AND NOT EXISTS (SELECT FROM known)
        RETURNING balance
    ), charged AS (
        INSERT INTO charge (org, reference, kind, factory_id, year, state, created_at, updated_at)
        SELECT CAST(:org AS VARCHAR), CAST(:reference AS VARCHAR), 'credit',
            CAST(:factory_id AS VARCHAR), NULL, 'held', CAST(:now AS TIMESTAMPTZ),
            CAST(:now AS TIMESTAMPTZ)
        FROM spent
    ), entry AS (
        INSERT INTO credit_entry
            (id, org, kind, delta, balance_after, reference, reason, created_by, created_at)
        SELECT CAST(:entry_id AS VARCHAR), CAST(:org AS VARCHAR), 'spend', -1, spent.balance,
            CAST(:reference AS VARCHAR), CAST(:reason AS VARCHAR), CAST(:by AS VARCHAR),
            CAST(:now AS TIMESTAMPTZ)
        FROM spent
    ), exhausted AS (
        SELECT FROM spent WHERE balance = 0
    ), {gated_record_sql("exhausted")}
    SELECT EXISTS (SELECT FROM known) AS known, (SELECT balance FROM spent) AS balance
    """  # noqa: S608 (built once from constants)
)


def one_statement(session: AsyncSession, kind: str) -> bool:
    """Whether a charge of `kind` is one statement (a credit on PostgreSQL): the caller can
    run it in an autocommit session, which commits it with no transaction round trips."""
    return kind == CREDIT and session.get_bind().dialect.name == "postgresql"


async def _charge_credit_at_once(
    *, session: AsyncSession, row: Charge, reason: str | None, by: str
) -> ChargeResult:
    parameters = {
        "org": row.org,
        "reference": row.reference,
        "factory_id": row.factory_id,
        "now": row.created_at,
        "entry_id": new_id("txn"),
        "reason": reason,
        "by": by,
        **gated_record_parameters(
            events.credits_exhausted_event(org=row.org), occurred_at=row.created_at
        ),
    }
    try:
        known, balance = (await session.execute(_CREDIT_CHARGE, parameters)).one()
    except IntegrityError as exc:
        # A twin committed first. Its charge row: replay it (as a known reference); else
        # (a twin ledger entry) the balance is untouched and a retry finds the twin's entry.
        await session.rollback()
        if await session.get(Charge, (row.org, row.reference)) is None:
            raise ledger.twin_conflict(EntryKind.SPEND, row.reference) from exc
        known, balance = True, None
    if known:
        return await _replay(session=session, org=row.org, reference=row.reference, kind=CREDIT)
    if balance is None:  # nothing was written
        raise _no_credits(row.org)
    LEDGER_CHANGES.labels("charge", CREDIT).inc()
    return ChargeResult(row, balance=balance)


def _no_credits(org: str) -> PaymentRequired:
    return PaymentRequired(
        f"No report credits left: the credit balance of {org} is 0. Buy credits (a "
        "credits invoice, POST /v1/billing/invoices); they are posted when the invoice "
        "is paid.",
        balance=0,
    )


async def _replay(*, session: AsyncSession, org: str, reference: str, kind: str) -> ChargeResult:
    """The same reference again: the first charge if it stands, else a refusal that names
    its outcome (a cancelled or released reference never charges again)."""
    row = await session.get(Charge, (org, reference), populate_existing=True)
    assert row is not None  # the INSERT just conflicted with it
    if row.kind != kind:
        raise Conflict(
            f"The reference {reference!r} already names a {row.kind} charge; use a new "
            "reference for a new payment.",
            state=row.state,
        )
    if row.state != HELD:
        raise Conflict(
            f"The payment {reference!r} was {row.state}; a reference pays once, so this "
            "request charged nothing. Start a new attempt with a new reference.",
            state=row.state,
        )
    if row.kind == CREDIT:
        return ChargeResult(row, balance=await ledger.credit_balance(session=session, org=org))
    footprint = await ledger.footprint_of(session=session, org=org, year=row.year or 0)
    return ChargeResult(
        row,
        footprint=footprint.footprint if footprint else 0,
        used=footprint.used if footprint else 0,
    )


async def _spend_credit(
    *, session: AsyncSession, row: Charge, reason: str | None, by: str
) -> ChargeResult:
    balance = await ledger.take_credits(session=session, org=row.org, amount=1)
    if balance is None:  # the transaction rolls back: the charge row goes too
        raise _no_credits(row.org)
    await ledger.append_entry(
        session=session,
        org=row.org,
        kind=EntryKind.SPEND,
        delta=-1,
        balance_after=balance,
        reference=row.reference,
        reason=reason,
        by=by,
    )
    if balance == 0:
        await events.credits_exhausted(session, org=row.org)
    return ChargeResult(row, balance=balance)


async def _lock_footprint(*, session: AsyncSession, org: str, year: int) -> PartnerFootprint | None:
    """The partner's footprint row for the year, locked until commit: the slot decisions of
    one partner and year happen one at a time."""
    statement = (
        sa.select(PartnerFootprint)
        .where(col(PartnerFootprint.org) == org, col(PartnerFootprint.year) == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row: PartnerFootprint | None = (await session.scalars(statement)).first()
    return row


async def _factory_held(
    *, session: AsyncSession, org: str, year: int, factory_id: str, besides: str
) -> bool:
    """Whether another held charge already counts the factory in the year's footprint."""
    statement = sa.select(
        sa.exists().where(
            col(Charge.org) == org,
            col(Charge.kind) == FOOTPRINT,
            col(Charge.state) == HELD,
            col(Charge.year) == year,
            col(Charge.factory_id) == factory_id,
            col(Charge.reference) != besides,
        )
    )
    return bool(await session.scalar(statement))


async def _move_used(*, session: AsyncSession, org: str, year: int, by: int) -> int:
    used = col(PartnerFootprint.used)
    statement = (
        sa.update(PartnerFootprint)
        .where(col(PartnerFootprint.org) == org, col(PartnerFootprint.year) == year)
        .values(used=used + by)
        .returning(used)
        .execution_options(synchronize_session=False)
    )
    return int((await session.execute(statement)).scalar_one())


async def _claim_slot(*, session: AsyncSession, row: Charge, year: int) -> ChargeResult:
    org, factory_id = row.org, row.factory_id
    footprint = await _lock_footprint(session=session, org=org, year=year)
    if footprint is None:
        raise Forbidden(
            f"The footprint of {org} for {year} is 0: there is no paid partnership invoice "
            f"for that year, so {factory_id} cannot be unlocked.",
            footprint=0,
            used=0,
        )
    if await _factory_held(
        session=session, org=org, year=year, factory_id=factory_id, besides=row.reference
    ):
        return ChargeResult(row, footprint=footprint.footprint, used=footprint.used)
    if footprint.used >= footprint.footprint:
        raise Forbidden(
            f"The footprint of {org} for {year} is full: {footprint.used} of "
            f"{footprint.footprint} factories are already unlocked this year, so "
            f"{factory_id} cannot be added.",
            footprint=footprint.footprint,
            used=footprint.used,
        )
    used = await _move_used(session=session, org=org, year=year, by=1)
    if used == footprint.footprint:  # this claim took the last slot (the row lock is ours)
        await events.footprint_full(
            session, org=org, year=year, footprint=footprint.footprint, used=used
        )
    return ChargeResult(row, footprint=footprint.footprint, used=used, new_claim=True)


# --- cancel ------------------------------------------------------------------------------


async def cancel(
    *,
    session: AsyncSession,
    org: str,
    kind: str,
    factory_id: str,
    references: Sequence[str],
    by: str,
) -> list[Cancelled]:
    """Give back each held charge; mark each reference never charged as cancelled."""
    return [
        await _cancel_one(
            session=session, org=org, kind=kind, factory_id=factory_id, reference=r, by=by
        )
        for r in dict.fromkeys(references)
    ]


async def _cancel_one(
    *, session: AsyncSession, org: str, kind: str, factory_id: str, reference: str, by: str
) -> Cancelled:
    moment = clock.now()
    statement = ledger.upsert(session=session, table=Charge).values(
        org=org,
        reference=reference,
        kind=kind,
        factory_id=factory_id,
        year=None,
        state=CANCELLED,
        created_at=moment,
        updated_at=moment,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[col(Charge.org), col(Charge.reference)],
        set_={"state": RELEASED, "updated_at": moment},
        where=col(Charge.state) == HELD,
    ).returning(col(Charge.state), col(Charge.kind), col(Charge.year), col(Charge.factory_id))
    changed = (await session.execute(statement)).first()
    if changed is None:  # already released or cancelled: nothing more to give back
        row = await session.get(Charge, (org, reference), populate_existing=True)
        return Cancelled(reference, row.state if row else CANCELLED, given_back=False)
    state, held_kind, year, held_factory = changed
    if state == CANCELLED:  # never charged: the marker refuses a late charge
        return Cancelled(reference, CANCELLED, given_back=False)
    if held_kind == CREDIT:
        balance = await ledger.add_credits(session=session, org=org, amount=1)
        await ledger.append_entry(
            session=session,
            org=org,
            kind=EntryKind.REFUND,
            delta=1,
            balance_after=balance,
            reference=reference,
            reason="unlock not completed: the credit is given back",
            by=by,
        )
    else:
        await _free_slot(
            session=session, org=org, year=year, factory_id=held_factory, reference=reference
        )
    LEDGER_CHANGES.labels("release", held_kind).inc()
    return Cancelled(reference, RELEASED, given_back=True)


async def _free_slot(
    *, session: AsyncSession, org: str, year: int, factory_id: str, reference: str
) -> None:
    """Free the factory's slot unless another held charge still counts it."""
    if await _lock_footprint(session=session, org=org, year=year) is None:
        return
    if not await _factory_held(
        session=session, org=org, year=year, factory_id=factory_id, besides=reference
    ):
        await _move_used(session=session, org=org, year=year, by=-1)


# --- reading and checking ----------------------------------------------------------------


async def list_charges(
    *, session: AsyncSession, page: PageParams, state: str | None = None, org: str | None = None
) -> tuple[list[Charge], str | None]:
    statement = sa.select(Charge)
    if state is not None:
        statement = statement.where(col(Charge.state) == state)
    if org is not None:
        statement = statement.where(col(Charge.org) == org)
    key = [sort_key(Charge.org, str), sort_key(Charge.reference, str)]
    return await paginate(session, statement, page, key=key)


async def check(*, session: AsyncSession) -> list[Discrepancy]:
    """Billing's own invariants: every balance is the sum of its entries; every held credit
    charge has its spend and no refund, every released one both, a cancelled one neither,
    and every spend or refund entry its charge; every footprint's `used` counts the distinct
    factories of its held charges, within the footprint."""
    found: list[Discrepancy] = []
    sums = (
        sa.select(col(CreditEntry.org), sa.func.sum(col(CreditEntry.delta)).label("total"))
        .group_by(col(CreditEntry.org))
        .subquery()
    )
    balances = sa.select(
        sa.func.coalesce(col(CreditAccount.org), sums.c.org),
        sa.func.coalesce(col(CreditAccount.balance), 0),
        sa.func.coalesce(sums.c.total, 0),
    ).select_from(
        sa.join(
            CreditAccount.__table__,  # type: ignore[attr-defined]
            sums,
            col(CreditAccount.org) == sums.c.org,
            full=True,
        )
    )
    for org, balance, total in (await session.execute(balances)).all():
        if int(balance) != int(total):
            found.append(
                Discrepancy(
                    "balance_mismatch",
                    org,
                    f"The balance is {balance} but the ledger's entries add up to {total}.",
                )
            )
    found.extend(await _credit_charges_against_ledger(session=session))
    found.extend(await _footprints_against_charges(session=session))
    return found


def _entry_exists(kind: EntryKind) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        col(CreditEntry.org) == col(Charge.org),
        col(CreditEntry.reference) == col(Charge.reference),
        col(CreditEntry.kind) == kind.value,
    )


async def _credit_charges_against_ledger(*, session: AsyncSession) -> list[Discrepancy]:
    spent, refunded = _entry_exists(EntryKind.SPEND), _entry_exists(EntryKind.REFUND)
    expected = {HELD: (True, False), RELEASED: (True, True), CANCELLED: (False, False)}
    rows = await session.execute(
        sa.select(col(Charge.org), col(Charge.reference), col(Charge.state), spent, refunded)
        .where(col(Charge.kind) == CREDIT)
        .where(
            sa.or_(
                *(
                    sa.and_(
                        col(Charge.state) == state,
                        sa.not_(sa.and_(spent if s else ~spent, refunded if r else ~refunded)),
                    )
                    for state, (s, r) in expected.items()
                )
            )
        )
    )
    found = [
        Discrepancy(
            "charge_ledger_mismatch",
            org,
            f"A {state} credit charge has {'a' if has_spend else 'no'} spend entry and "
            f"{'a' if has_refund else 'no'} refund entry.",
            reference=reference,
        )
        for org, reference, state, has_spend, has_refund in rows.all()
    ]
    orphans = await session.execute(
        sa.select(col(CreditEntry.org), col(CreditEntry.reference), col(CreditEntry.kind)).where(
            col(CreditEntry.kind).in_([EntryKind.SPEND.value, EntryKind.REFUND.value]),
            ~sa.exists().where(
                col(Charge.org) == col(CreditEntry.org),
                col(Charge.reference) == col(CreditEntry.reference),
                col(Charge.kind) == CREDIT,
            ),
        )
    )
    found.extend(
        Discrepancy(
            "entry_without_charge",
            org,
            f"A {kind} entry names no charge.",
            reference=reference,
        )
        for org, reference, kind in orphans.all()
    )
    return found


async def _footprints_against_charges(*, session: AsyncSession) -> list[Discrepancy]:
    held = (
        sa.select(
            col(Charge.org),
            col(Charge.year),
            sa.func.count(sa.distinct(col(Charge.factory_id))).label("factories"),
        )
        .where(col(Charge.kind) == FOOTPRINT, col(Charge.state) == HELD)
        .group_by(col(Charge.org), col(Charge.year))
        .subquery()
    )
    rows = await session.execute(
        sa.select(
            sa.func.coalesce(col(PartnerFootprint.org), held.c.org),
            sa.func.coalesce(col(PartnerFootprint.year), held.c.year),
            col(PartnerFootprint.footprint),
            sa.func.coalesce(col(PartnerFootprint.used), 0),
            sa.func.coalesce(held.c.factories, 0),
        ).select_from(
            sa.join(
                PartnerFootprint.__table__,  # type: ignore[attr-defined]
                held,
                sa.and_(
                    col(PartnerFootprint.org) == held.c.org,
                    col(PartnerFootprint.year) == held.c.year,
                ),
                full=True,
            )
        )
    )
    found: list[Discrepancy] = []
    for row in rows.all():
        org, year, used, factories = row[0], row[1], row[3], row[4]
        footprint: int | None = row[2]  # None: held charges without a footprint (outer join)
        if footprint is None:
            found.append(
                Discrepancy(
                    "charge_without_footprint",
                    org,
                    f"{factories} factories are held in {year} without a paid partnership.",
                    year=year,
                )
            )
        elif int(used) != int(factories) or int(used) > int(footprint):
            found.append(
                Discrepancy(
                    "footprint_mismatch",
                    org,
                    f"The footprint of {year} says {used} of {footprint} factories are used; "
                    f"the held charges count {factories}.",
                    year=year,
                )
            )
    return found
