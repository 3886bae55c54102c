"""Helpers for the cycles API tests: a `World` of real eligibility, reports and billing
services in process (tests/inprocess.py), so a factory is enrolled, a TPA approved, a cycle
unlocked and a report released exactly as clients do it; and dates relative to today."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.helpers import ADVISOR_ORG, key, ok, paid_invoice
from tests.inprocess import Api

REGIONS = {"BD": "Gazipur", "KH": "Phnom Penh", "VN": "Ho Chi Minh City", "ID": "West Java"}


def today() -> date:
    return datetime.now(UTC).date()


class World:
    """One test's actors. `cycles(role, org)` is an authenticated cycles client."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.advisor = api.client("cycles", role="advisor", org=ADVISOR_ORG)
        self._partners_with_footprint: set[str] = set()

    def cycles(self, role: str, org: str, **kw: Any) -> httpx.AsyncClient:
        return self.api.client("cycles", role=role, org=org, **kw)

    async def factory(self, *, country: str = "BD", enrol: bool = True) -> str:
        eligibility = self.api.client("eligibility", role="advisor", org=ADVISOR_ORG)
        body = {
            "name": f"Factory {uuid.uuid4().hex[:8]}",
            "address": "1 Industrial Road",
            "country": country,
            "region": REGIONS.get(country, "Capital"),
            "products": ["garments"],
            "worker_count": 800,
        }
        created = ok(await eligibility.post("/factories", json=body), 201)
        factory_id: str = created["id"]
        if enrol:
            ok(
                await eligibility.post(
                    f"/factories/{factory_id}/enrolment", json={"status": "enrolled"}
                )
            )
        return factory_id

    async def open_cycle(self, factory_id: str, start: date, **extra: Any) -> dict[str, Any]:
        body = {"start_date": start.isoformat(), **extra}
        cycle: dict[str, Any] = ok(
            await self.advisor.post(f"/factories/{factory_id}/cycles", json=body), 201
        )
        return cycle

    async def visit(
        self,
        cycle_id: str,
        type: str,
        day: date,
        *,
        complete: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        if type == "assessment":
            extra.setdefault("assessors", ["Assessor A", "Assessor B"])
        body = {"type": type, "date": day.isoformat(), **extra}
        visit: dict[str, Any] = ok(
            await self.advisor.post(f"/cycles/{cycle_id}/visits", json=body), 201
        )
        if complete:
            visit = ok(await self.advisor.post(f"/cycles/{cycle_id}/visits/{visit['id']}/complete"))
        return visit

    async def approve_tpa(self, factory_id: str, *, buyer: str, role: str) -> None:
        reports = self.api.client("reports", role=role, org=buyer)
        request = ok(await reports.post("/access-requests", json={"factory_id": factory_id}), 201)
        factory = self.api.client("reports", role="factory", org=factory_id)
        ok(await factory.post(f"/access-requests/{request['id']}/approve"))

    async def unlock(self, factory_id: str, cycle: int, *, buyer: str, role: str) -> None:
        """Give the buyer the means (a credit; a partner a footprint of 10 factories, paid
        once a year) and unlock the cycle."""
        if role == "participant":
            await paid_invoice(
                self.api,
                role=role,
                org=buyer,
                body={"kind": "credits", "year": today().year, "report_cycles": 1},
            )
        elif buyer not in self._partners_with_footprint:
            await paid_invoice(
                self.api,
                role=role,
                org=buyer,
                body={
                    "kind": "partnership",
                    "year": today().year,
                    "apparel_revenue_usd": "500000000",
                    "factory_count": 10,
                },
            )
            self._partners_with_footprint.add(buyer)
        reports = self.api.client("reports", role=role, org=buyer)
        reply = await reports.post(
            "/unlocks", json={"factory_id": factory_id, "cycle": cycle}, headers=key()
        )
        assert reply.status_code in (200, 201), reply.text

    async def release(
        self,
        factory_id: str,
        cycle: int,
        kind: str,
        *,
        findings: list[dict[str, Any]] | None = None,
    ) -> None:
        """Draft a document in reports (PR1 by the factory) and release it."""
        author = (
            self.api.client("reports", role="factory", org=factory_id)
            if kind == "progress_report_1"
            else self.api.client("reports", role="advisor", org=ADVISOR_ORG)
        )
        body: dict[str, Any] = {"kind": kind, "title": f"{kind} of cycle {cycle}"}
        if kind == "assessment":
            body["findings"] = findings or [
                {
                    "cluster": "OSH",
                    "question": "Are emergency exits unlocked?",
                    "publicly_reported": True,
                    "compliant": True,
                }
            ]
        draft = ok(
            await author.post(f"/factories/{factory_id}/cycles/{cycle}/reports", json=body), 201
        )
        if kind == "progress_report_1":
            ok(await author.post(f"/reports/{draft['id']}/submit"))
        advisor = self.api.client("reports", role="advisor", org=ADVISOR_ORG)
        ok(await advisor.post(f"/reports/{draft['id']}/release"))


def milestones(cycle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in cycle["milestones"]}


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)
