"""Typed clients for the services cycles calls (services/INTERNAL_API.md): eligibility for
the factory registry, reports for report cycles, access checks and released documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict

from shared.errors import NotFound
from shared.http import ServiceClient, UpstreamError

__all__ = [
    "Access",
    "AssessmentReport",
    "Document",
    "EligibilityClient",
    "EligibilityDep",
    "FactoryRecord",
    "ReportFinding",
    "ReportsClient",
    "ReportsDep",
    "TpaHolder",
    "TpaHolders",
    "reports_client",
]


class _Reply(BaseModel):
    # Other services may add fields; we read what we need.
    model_config = ConfigDict(extra="ignore")


class FactoryRecord(_Reply):
    id: str
    country: str
    enrolment_status: str
    name: str | None = None
    # The programme's allowance in force today (eligibility's rule data); None when the
    # country has no programme.
    training_participant_days: int | None = None


class Access(_Reply):
    org: str
    factory_id: str
    tpa_status: str | None = None
    unlocked_cycles: list[int] = []
    shared_cycles: list[int] = []

    @property
    def tpa_approved(self) -> bool:
        return self.tpa_status == "approved"


class TpaHolder(_Reply):
    org: str
    role: str


class TpaHolders(_Reply):
    factory_id: str
    holders: list[TpaHolder] = []


class Document(_Reply):
    id: str
    kind: str
    status: str
    released_at: datetime | None = None


class ReportFinding(_Reply):
    cluster: str
    question: str
    publicly_reported: bool
    compliant: bool
    detail: str | None = None


class AssessmentReport(_Reply):
    factory_id: str
    cycle: int
    released: bool
    released_at: datetime | None = None
    findings: list[ReportFinding] = []


def _seg(value: str) -> str:
    return quote(value, safe="")


class EligibilityClient(ServiceClient):
    async def factory(self, factory_id: str) -> FactoryRecord:
        """The registry entry; NotFound when eligibility does not know the factory."""
        try:
            reply = await self.call("GET", f"/internal/factories/{_seg(factory_id)}")
        except UpstreamError as exc:
            if exc.status == 404:
                raise NotFound(f"There is no factory {factory_id!r} in the registry.") from exc
            raise
        return FactoryRecord.model_validate(reply.json())

    async def has_programme(self, country: str) -> bool:
        """Whether Better Work runs a programme in `country` (rules in force today)."""
        try:
            await self.call("GET", f"/internal/programmes/{_seg(country.upper())}")
        except UpstreamError as exc:
            if exc.status in (404, 422):
                return False
            raise
        return True


class ReportsClient(ServiceClient):
    async def open_report_cycle(self, *, factory_id: str, cycle: int, country: str) -> None:
        await self.call(
            "POST",
            "/internal/report-cycles",
            json={"factory_id": factory_id, "cycle": cycle, "country": country},
        )

    async def access(self, *, org: str, factory_id: str) -> Access:
        reply = await self.call(
            "GET", "/internal/access", params={"org": org, "factory_id": factory_id}
        )
        return Access.model_validate(reply.json())

    async def tpa_holders(self, *, factory_id: str) -> list[str]:
        """The buyer organisations holding an approved TPA for the factory today."""
        reply = await self.call("GET", f"/internal/factories/{_seg(factory_id)}/tpa-holders")
        holders = TpaHolders.model_validate(reply.json())
        return [holder.org for holder in holders.holders]

    async def documents(self, *, factory_id: str, cycle: int) -> list[Document]:
        reply = await self.call(
            "GET", f"/internal/factories/{_seg(factory_id)}/cycles/{cycle}/documents"
        )
        return [Document.model_validate(d) for d in reply.json().get("documents", [])]

    async def assessment(self, *, factory_id: str, cycle: int) -> AssessmentReport:
        try:
            reply = await self.call(
                "GET", f"/internal/factories/{_seg(factory_id)}/cycles/{cycle}/assessment"
            )
        except UpstreamError as exc:
            if exc.status == 404:  # no assessment report (or report cycle) yet
                return AssessmentReport(factory_id=factory_id, cycle=cycle, released=False)
            raise
        return AssessmentReport.model_validate(reply.json())

    async def add_plan_items(
        self, *, factory_id: str, cycle: int, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        reply = await self.call(
            "POST",
            f"/internal/factories/{_seg(factory_id)}/cycles/{cycle}/improvement-plan/items",
            json={"items": [_jsonable(item) for item in items]},
        )
        created = reply.json().get("items", [])
        return [dict(item) for item in created if isinstance(item, dict)]


def _jsonable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in item.items()}


def _client(request: Request, cls: type[ServiceClient], target: str) -> Any:
    return _client_of(request.app, cls, target)


def _client_of(app: FastAPI, cls: type[ServiceClient], target: str) -> Any:
    # One client per app and target, so the service token is minted once per few minutes.
    state = app.state
    cache: dict[str, ServiceClient] | None = getattr(state, "service_clients", None)
    if cache is None:
        cache = state.service_clients = {}
    client = cache.get(target)
    if client is None or client.http is not state.http:  # a new lifespan, a new pool
        client = cls(state.http, state.settings, caller="cycles", target=target)
        cache[target] = client
    return client


async def _eligibility(request: Request) -> EligibilityClient:
    client: EligibilityClient = _client(request, EligibilityClient, "eligibility")
    return client


async def _reports(request: Request) -> ReportsClient:
    client: ReportsClient = _client(request, ReportsClient, "reports")
    return client


def reports_client(app: FastAPI) -> ReportsClient:
    """The app's reports client outside a request (the milestone-alert job)."""
    client: ReportsClient = _client_of(app, ReportsClient, "reports")
    return client


EligibilityDep = Annotated[EligibilityClient, Depends(_eligibility)]
ReportsDep = Annotated[ReportsClient, Depends(_reports)]
