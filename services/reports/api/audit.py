"""The reconciliation audit of unlocks and their payments (services/reports/jobs/audit.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from fastapi import APIRouter, Request

from services.reports.api.deps import Advisor, problems
from services.reports.clients import BillingDep
from services.reports.jobs import audit
from services.reports.schemas import AuditDiscrepancy, AuditPublic
from shared.auth import ALL_COUNTRIES
from shared.errors import Forbidden

router = APIRouter(tags=["audit"])


@router.get("/audit/unlock-payments", responses=problems(503))
async def audit_unlock_payments(
    caller: Advisor, request: Request, billing: BillingDep
) -> AuditPublic:
    """Cross-check every unlock against billing's charges and billing's ledger.

    What to run after an incident (also `make audit`): every active unlock must have
    exactly one held charge of its kind (a credit for participants, a footprint slot for
    partners) and every held charge an active unlock; billing's balances must add up to
    their entries and each footprint's `used` to its held charges. `consistent: false`
    lists each discrepancy with the ids to look at. Charges of unlocks still being paid for
    are counted as `in_flight`, not as discrepancies. Advisors of all programmes only.
    """
    if ALL_COUNTRIES not in caller.principal.countries:
        raise Forbidden(
            "The audit covers every programme's buyers: it needs an advisor token for all "
            'programmes (countries ["*"]).'
        )
    report = await audit.audit(
        sessionmaker=request.app.state.autocommit,
        billing=billing,
        lease=timedelta(seconds=request.app.state.settings.unlock_lease_s),
    )
    return AuditPublic(
        checked_at=report.checked_at,
        consistent=not report.discrepancies,
        unlocks_checked=report.unlocks_checked,
        charges_checked=report.charges_checked,
        in_flight=report.in_flight,
        discrepancies=[AuditDiscrepancy(**asdict(d)) for d in report.discrepancies],
    )
