"""Typed clients for the services reports calls (services/INTERNAL_API.md): eligibility
(the factory registry) and billing (credits and the partner footprint).

Built on `shared.http.ServiceClient`: service tokens, the process's pooled client and its
timeouts, retries only for calls that cannot do the work twice (GETs, and POSTs carrying
an Idempotency-Key). Replies are parsed into small frozen models, so a change of contract
fails loudly here instead of deep inside a route.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import quote

import httpx
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import BadRequest, Conflict, NotFound, Unavailable, Unprocessable
from shared.http import ServiceClient, UpstreamError
from shared.settings import Settings

__all__ = [
    "BillingClient",
    "BillingDep",
    "BillingDiscrepancy",
    "CancelReply",
    "Charge",
    "ChargeCancelled",
    "ChargeRow",
    "EligibilityClient",
    "EligibilityDep",
    "FootprintFull",
    "LedgerCheck",
    "ListRows",
    "NoCredits",
    "RegistryFactory",
    "RegistrySupplier",
    "RegistrySuppliers",
    "install_clients",
]

CALLER = "reports"


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class RegistryFactory(_Reply):
    id: str
    name: str
    country: str
    enrolment_status: str


class RegistryFactories(_Reply):
    factories: list[RegistryFactory]


class RegistrySupplier(_Reply):
    id: str
    name: str
    country: str
    region: str | None
    os_id: str | None
    enrolled: bool
    match_score: float | None


class RegistrySuppliers(_Reply):
    items: list[RegistrySupplier]
    next_cursor: str | None = None


class ListRow(_Reply):
    row: int
    client_ref: str | None = None
    factory_id: str | None = None


class ListRows(_Reply):
    list_id: str
    owner_org: str
    row_count: int
    rows: list[ListRow]


class Charge(_Reply):
    org: str
    reference: str
    kind: str
    factory_id: str
    year: int | None
    state: str
    balance: int | None = None
    footprint: int | None = None
    used: int | None = None
    new_claim: bool = False


class Cancelled(_Reply):
    reference: str
    state: str
    given_back: bool


class CancelReply(_Reply):
    org: str
    cancelled: list[Cancelled]


class ChargeRow(_Reply):
    org: str
    reference: str
    kind: str
    factory_id: str
    year: int | None
    state: str


class ChargePage(_Reply):
    items: list[ChargeRow]
    next_cursor: str | None = None


class BillingDiscrepancy(_Reply):
    code: str
    org: str
    detail: str
    reference: str | None = None
    year: int | None = None


class LedgerCheck(_Reply):
    discrepancies: list[BillingDiscrepancy]


class NoCredits(Exception):
    """Billing refused the spend: the balance is 0 (nothing was spent)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ChargeCancelled(Exception):
    """Billing refused the charge: its reference was cancelled (a later attempt of the same
    unlock took it over and gave this one up). Nothing was charged."""


class FootprintFull(Exception):
    """Billing refused the claim: the partner's footprint for the year is used up."""

    def __init__(self, detail: str, *, footprint: int | None, used: int | None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.footprint = footprint
        self.used = used


ReplyT = TypeVar("ReplyT", bound=_Reply)


def _number(body: dict[str, object], name: str) -> int | None:
    value = body.get(name)
    return value if isinstance(value, int) else None


def _parse(model: type[ReplyT], reply: httpx.Response, target: str) -> ReplyT:
    try:
        return model.model_validate_json(reply.content)
    except ValidationError as exc:
        raise Unavailable(f"The {target} service gave a reply this service cannot read.") from exc


class EligibilityClient(ServiceClient):
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        super().__init__(http, settings, caller=CALLER, target="eligibility")

    async def factory(self, factory_id: str) -> RegistryFactory | None:
        """The registry's factory, or None when the registry does not know it."""
        try:
            reply = await self.call("GET", f"/internal/factories/{quote(factory_id, safe='')}")
        except UpstreamError as exc:
            if exc.status in (404, 422):  # 422: an id the registry could never have issued
                return None
            raise Unavailable("The factory registry refused the look-up; try again.") from exc
        return _parse(RegistryFactory, reply, self.target)

    async def factories(self, factory_ids: list[str]) -> dict[str, RegistryFactory]:
        """Many registry factories in one call (up to 1,000); unknown ids are left out."""
        wanted = sorted(set(factory_ids))
        if not wanted:
            return {}
        try:
            # A read (POST only for the size of the id list): safe to retry.
            reply = await self.call(
                "POST", "/internal/factories/lookup", json={"ids": wanted}, repeatable=True
            )
        except UpstreamError as exc:
            raise Unavailable("The factory registry refused the look-up; try again.") from exc
        found = _parse(RegistryFactories, reply, self.target)
        return {factory.id: factory for factory in found.factories}

    async def list_rows(self, *, list_id: str, org: str, limit: int) -> ListRows:
        """The first `limit` rows of the organisation's scoped factory list with the factory
        each matched. NotFound: not its list; Conflict: still being scoped."""
        path = f"/internal/factory-lists/{quote(list_id, safe='')}/rows"
        try:
            reply = await self.call("GET", path, params={"org": org, "limit": limit})
        except UpstreamError as exc:
            if exc.status in (404, 422):
                raise NotFound(f"You have no factory list {list_id!r}.") from exc
            if exc.status == 409:
                raise Conflict(exc.detail) from exc
            raise Unavailable("The factory registry refused the look-up; try again.") from exc
        return _parse(ListRows, reply, self.target)

    async def suppliers(
        self,
        *,
        q: str | None,
        os_id: str | None,
        countries: list[str] | None,
        cursor: str | None,
        limit: int,
    ) -> RegistrySuppliers:
        """A page of the registry's suppliers by name, OS ID or countries (None: every one).
        The cursor is the registry's own, passed back unchanged; a cursor or search it
        refuses is the caller's 400/422, as the registry words it."""
        params: dict[str, str | int | list[str]] = {"limit": limit}
        for name, value in (("q", q), ("os_id", os_id), ("cursor", cursor)):
            if value is not None:
                params[name] = value
        if countries is not None:
            params["countries"] = countries
        try:
            reply = await self.call("GET", "/internal/suppliers", params=params)
        except UpstreamError as exc:
            errors = exc.body.get("errors")
            errors = errors if isinstance(errors, list) else []
            if exc.status == 400:
                raise BadRequest(exc.detail, errors=errors) from exc
            if exc.status == 422:
                raise Unprocessable(exc.detail, errors=errors) from exc
            raise Unavailable("The factory registry refused the search; try again.") from exc
        return _parse(RegistrySuppliers, reply, self.target)


class BillingClient(ServiceClient):
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        super().__init__(http, settings, caller=CALLER, target="billing")

    async def charge(
        self,
        *,
        org: str,
        reference: str,
        kind: str,
        factory_id: str,
        year: int | None,
        reason: str,
    ) -> Charge:
        """Pay for an unlock with `reference` (one credit or the factory's footprint slot).
        The reference pays once, so a lost reply is retried safely."""
        body = {
            "org": org,
            "reference": reference,
            "kind": kind,
            "factory_id": factory_id,
            "year": year,
            "reason": reason,
        }
        try:
            reply = await self.call("POST", "/internal/charges", json=body, repeatable=True)
        except UpstreamError as exc:
            if exc.status == 402:
                raise NoCredits(exc.detail) from exc
            if exc.status == 403:
                raise FootprintFull(
                    exc.detail,
                    footprint=_number(exc.body, "footprint"),
                    used=_number(exc.body, "used"),
                ) from exc
            if exc.status == 409:
                raise ChargeCancelled(exc.detail) from exc
            raise Unavailable(f"Billing refused the charge: {exc.detail}") from exc
        return _parse(Charge, reply, self.target)

    async def cancel(
        self, *, org: str, kind: str, factory_id: str, references: list[str]
    ) -> CancelReply:
        """Give up these payment references for good: held charges are given back, the
        others can never charge. Safe to repeat."""
        body = {"org": org, "kind": kind, "factory_id": factory_id, "references": references}
        try:
            reply = await self.call("POST", "/internal/charges/cancel", json=body, repeatable=True)
        except UpstreamError as exc:
            raise Unavailable(f"Billing refused the cancellation: {exc.detail}") from exc
        return _parse(CancelReply, reply, self.target)

    async def charges(self, *, state: str | None = None) -> list[ChargeRow]:
        """Every charge (all pages), for the reconciliation audit."""
        rows: list[ChargeRow] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 500}
            if state is not None:
                params["state"] = state
            if cursor is not None:
                params["cursor"] = cursor
            page = _parse(ChargePage, await self.call("GET", "/internal/charges", params=params),
                          self.target)  # fmt: skip
            rows.extend(page.items)
            if page.next_cursor is None:
                return rows
            cursor = page.next_cursor

    async def check_ledger(self) -> LedgerCheck:
        """Billing's own invariants (balances, credit charges against the ledger, footprints)."""
        return _parse(LedgerCheck, await self.call("GET", "/internal/ledger/check"), self.target)


async def install_clients(app: FastAPI) -> None:
    """Start-up hook: one client of each per process (they cache their service token)."""
    app.state.eligibility = EligibilityClient(app.state.http, app.state.settings)
    app.state.billing = BillingClient(app.state.http, app.state.settings)


async def _eligibility(request: Request) -> EligibilityClient:
    client: EligibilityClient = request.app.state.eligibility
    return client


async def _billing(request: Request) -> BillingClient:
    client: BillingClient = request.app.state.billing
    return client


EligibilityDep = Annotated[EligibilityClient, Depends(_eligibility)]
BillingDep = Annotated[BillingClient, Depends(_billing)]
