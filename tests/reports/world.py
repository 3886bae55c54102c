"""Helpers for the reports API tests: plain async functions on a `World` that make what a
test needs through the services' own APIs (a factory in eligibility's registry, credits
and footprints through billing's invoices and payments, cycles, reports and TPA through
reports), so every test starts from the public contract."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.helpers import ADVISOR_ORG, key, ok, paid_invoice
from tests.inprocess import Api

FINDINGS: list[dict[str, Any]] = [
    {"cluster": "Child Labour", "question": "Child labourers present?",
     "publicly_reported": True, "compliant": True},
    {"cluster": "Occupational Safety and Health", "question": "Emergency exits unobstructed?",
     "publicly_reported": True, "compliant": False, "detail": "Exit B locked during shifts"},
    {"cluster": "Compensation", "question": "Overtime paid correctly?",
     "publicly_reported": False, "compliant": False, "detail": "Confidential payroll detail"},
]  # fmt: skip


def this_year() -> int:
    return datetime.now(UTC).year


class World:
    """The test's view of the four services, with a client per (service, role, org)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._factories = 0

    def reports(self, role: str, org: str, **kw: Any) -> httpx.AsyncClient:
        return self.api.client("reports", role=role, org=org, **kw)

    @property
    def advisor(self) -> httpx.AsyncClient:
        return self.reports("advisor", ADVISOR_ORG)

    async def factory(
        self, *, country: str = "BD", name: str | None = None, enrolled: bool = True
    ) -> str:
        """A factory in the registry (enrolled unless told); returns its id, which is the
        `org` of the factory's users."""
        self._factories += 1
        eligibility = self.api.client("eligibility", role="advisor", org=ADVISOR_ORG)
        body = {
            "name": name or f"Factory {self._factories} {uuid.uuid4().hex[:6]}",
            "address": "1 Industrial Road",
            "country": country,
            "region": "Gazipur",
            "products": ["garments"],
            "worker_count": 900,
        }
        created = ok(await eligibility.post("/factories", json=body), 201)
        if not enrolled:
            return str(created["id"])
        ok(
            await eligibility.post(
                f"/factories/{created['id']}/enrolment", json={"status": "enrolled"}
            )
        )
        return str(created["id"])

    async def open_cycle(self, factory_id: str, cycle: int = 1) -> dict[str, Any]:
        reply = await self.advisor.post(f"/factories/{factory_id}/cycles", json={"cycle": cycle})
        return dict(ok(reply, 201))

    async def draft(
        self, factory_id: str, cycle: int = 1, kind: str = "assessment", **fields: Any
    ) -> dict[str, Any]:
        body = {"kind": kind, "title": fields.pop("title", f"{kind} {cycle}"), **fields}
        if kind == "assessment":
            body.setdefault("findings", FINDINGS)
        author = (
            self.reports("factory", factory_id) if kind == "progress_report_1" else self.advisor
        )
        reply = await author.post(f"/factories/{factory_id}/cycles/{cycle}/reports", json=body)
        return dict(ok(reply, 201))

    async def release(self, report_id: str) -> dict[str, Any]:
        return dict(ok(await self.advisor.post(f"/reports/{report_id}/release")))

    async def released_assessment(
        self, factory_id: str, cycle: int = 1, **fields: Any
    ) -> dict[str, Any]:
        return await self.release((await self.draft(factory_id, cycle, **fields))["id"])

    async def request_tpa(self, role: str, org: str, factory_id: str) -> dict[str, Any]:
        reply = await self.reports(role, org).post(
            "/access-requests", json={"factory_id": factory_id}
        )
        assert reply.status_code in (200, 201), reply.text
        return dict(reply.json())

    async def decide_tpa(self, factory_id: str, request_id: str, action: str) -> dict[str, Any]:
        reply = await self.reports("factory", factory_id).post(
            f"/access-requests/{request_id}/{action}"
        )
        return dict(ok(reply))

    async def grant_tpa(self, role: str, org: str, factory_id: str) -> dict[str, Any]:
        request = await self.request_tpa(role, org, factory_id)
        return await self.decide_tpa(factory_id, request["id"], "approve")

    async def buy_credits(self, org: str, report_cycles: int) -> None:
        await paid_invoice(
            self.api,
            role="participant",
            org=org,
            body={"kind": "credits", "year": this_year(), "report_cycles": report_cycles},
        )

    async def become_partner(self, org: str, footprint: int) -> None:
        await paid_invoice(
            self.api,
            role="partner",
            org=org,
            body={
                "kind": "partnership",
                "year": this_year(),
                "apparel_revenue_usd": "2500000000",
                "factory_count": footprint,
            },
        )

    async def balance(self, org: str) -> int:
        credits = ok(await self.api.client("billing", role="participant", org=org).get("/credits"))
        return int(credits["balance"])

    async def unlock(
        self, role: str, org: str, factory_id: str, cycle: int = 1, **kw: Any
    ) -> httpx.Response:
        return await self.reports(role, org, **kw).post(
            "/unlocks", json={"factory_id": factory_id, "cycle": cycle}, headers=key()
        )

    async def readable_factory(
        self, role: str = "participant", org: str = "buyer-1", *, cycle: int = 1
    ) -> tuple[str, dict[str, Any]]:
        """A factory with a released assessment that `org` has unlocked: (factory, report)."""
        factory_id = await self.factory()
        await self.open_cycle(factory_id, cycle)
        report = await self.released_assessment(factory_id, cycle)
        await self.grant_tpa(role, org, factory_id)
        if role == "participant":
            await self.buy_credits(org, 1)
        else:
            await self.become_partner(org, 5)
        ok(await self.unlock(role, org, factory_id, cycle), 201)
        return factory_id, report
