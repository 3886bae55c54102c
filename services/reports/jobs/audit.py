"""The reconciliation audit: reports' unlocks against billing's charges, plus billing's own
ledger and footprint checks. What an operator runs after an incident (`make audit`, or
`GET /v1/reports/audit/unlock-payments` as an all-programme advisor).

It checks the saga's invariant (services/reports/jobs/unlocking.py): every active unlock has a
held charge of its kind behind it, and every held charge an active unlock, except the
charges of attempts still inside their lease (`in_flight`, not a discrepancy). A pending
unlock whose lease ran out is reported too: the recovery sweep settles it shortly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reports.clients import BillingClient
from services.reports.models import Unlock, payment_reference_of
from services.reports.store import access as store_access
from shared.clock import now

__all__ = ["AuditReport", "Discrepancy", "audit"]

KIND_OF_ROLE = {"participant": "credit", "partner": "footprint"}


@dataclass(frozen=True, slots=True)
class Discrepancy:
    code: str
    org: str
    detail: str
    source: str = "reports"  # reports: unlocks against charges; billing: its own checks
    unlock_id: str | None = None
    reference: str | None = None
    year: int | None = None


@dataclass(slots=True)
class AuditReport:
    checked_at: datetime
    unlocks_checked: int = 0
    charges_checked: int = 0
    in_flight: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)


def _in_flight(unlock: Unlock, reference: str, stale_before: datetime) -> bool:
    """Whether `reference` belongs to the live attempt (or an earlier one it will cancel)
    of a pending unlock still inside its lease."""
    started = unlock.attempt_started_at
    if unlock.status != "pending" or started is None or started < stale_before:
        return False
    return reference in {payment_reference_of(unlock.id, n) for n in range(unlock.attempt_no + 1)}


async def audit(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    billing: BillingClient,
    lease: timedelta,
) -> AuditReport:
    async with sessionmaker() as session:
        unlocks = await store_access.unlocks_for_audit(session=session)
    held = await billing.charges(state="held")
    ledger = await billing.check_ledger()
    moment = now()
    stale_before = moment - lease
    report = AuditReport(checked_at=moment, unlocks_checked=len(unlocks), charges_checked=len(held))
    charges = {(c.org, c.reference): c for c in held}
    paid_by = {(u.buyer_org, u.payment_reference): u for u in unlocks if u.status == "active"}
    found = report.discrepancies
    for unlock in unlocks:
        if unlock.status == "pending":
            started = unlock.attempt_started_at
            if started is None or started < stale_before:
                found.append(
                    Discrepancy(
                        "stale_pending_unlock",
                        unlock.buyer_org,
                        "A pending unlock whose attempt died or let go; the recovery sweep "
                        "cancels its payment and drops it.",
                        unlock_id=unlock.id,
                    )
                )
            continue
        charge = charges.get((unlock.buyer_org, unlock.payment_reference or ""))
        expected = KIND_OF_ROLE.get(unlock.buyer_role)
        if charge is None:
            found.append(
                Discrepancy(
                    "unlock_without_payment",
                    unlock.buyer_org,
                    f"Active unlock of factory {unlock.factory_id}, cycle {unlock.cycle}, has "
                    "no held charge in billing.",
                    unlock_id=unlock.id,
                    reference=unlock.payment_reference,
                )
            )
        elif charge.kind != expected:
            found.append(
                Discrepancy(
                    "payment_kind_mismatch",
                    unlock.buyer_org,
                    f"A {unlock.buyer_role}'s unlock is paid by a {charge.kind} charge.",
                    unlock_id=unlock.id,
                    reference=charge.reference,
                )
            )
    pending = {u.id: u for u in unlocks if u.status == "pending"}
    for charge in held:
        if (charge.org, charge.reference) in paid_by:
            continue
        owner = pending.get(charge.reference.split(".", 1)[0])
        if owner is not None and _in_flight(owner, charge.reference, stale_before):
            report.in_flight += 1
            continue
        found.append(
            Discrepancy(
                "payment_without_unlock",
                charge.org,
                f"A held {charge.kind} charge (factory {charge.factory_id}) pays for no "
                "active unlock.",
                unlock_id=owner.id if owner else None,
                reference=charge.reference,
                year=charge.year,
            )
        )
    found.extend(
        Discrepancy(d.code, d.org, d.detail, source="billing", reference=d.reference, year=d.year)
        for d in ledger.discrepancies
    )
    return report
