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

from shared.errors import Unavailable
from shared.http import ServiceClient, UpstreamError
from shared.settings import Settings

__all__ = [
    "BillingClient",
    "BillingDep",
    "CreditEntry",
    "EligibilityClient",
    "EligibilityDep",
    "FootprintClaim",
    "FootprintFull",
    "NoCredits",
    "RegistryFactory",
    "SpendInProgress",
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


class CreditEntry(_Reply):
    entry_id: str
    org: str
    balance: int
    reference: str


class FootprintClaim(_Reply):
    org: str
    year: int
    footprint: int
    used: int
    factory_id: str
    new_claim: bool


class NoCredits(Exception):
    """Billing refused the spend: the balance is 0 (nothing was spent)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SpendInProgress(Exception):
    """Billing is still running a spend with this key (another attempt of the same unlock)."""


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


class BillingClient(ServiceClient):
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        super().__init__(http, settings, caller=CALLER, target="billing")

    async def spend_credit(self, *, org: str, reference: str, reason: str) -> CreditEntry:
        """Spend one credit; `reference` (the unlock id) is also the idempotency key, so a
        repeated call replays the first spend instead of spending again."""
        try:
            reply = await self.call(
                "POST",
                "/internal/credits/spend",
                json={"org": org, "reference": reference, "reason": reason},
                idempotency_key=reference,
            )
        except UpstreamError as exc:
            if exc.status == 402:
                raise NoCredits(exc.detail) from exc
            if exc.status == 409:
                raise SpendInProgress(exc.detail) from exc
            raise Unavailable(f"Billing refused the credit spend: {exc.detail}") from exc
        return _parse(CreditEntry, reply, self.target)

    async def refund_credit(self, *, org: str, reference: str) -> CreditEntry | None:
        """Give back the credit spent with `reference`; None when nothing was spent."""
        try:
            reply = await self.call(
                "POST",
                "/internal/credits/refund",
                json={"org": org, "reference": reference},
                idempotency_key=f"refund-{reference}",
            )
        except UpstreamError as exc:
            if exc.status == 404:
                return None
            raise Unavailable(f"Billing refused the credit refund: {exc.detail}") from exc
        return _parse(CreditEntry, reply, self.target)

    async def claim_footprint(
        self, *, org: str, year: int, factory_id: str, reference: str
    ) -> FootprintClaim:
        """Count `factory_id` in the partner's footprint for `year` (free if already counted)."""
        try:
            reply = await self.call(
                "POST",
                "/internal/footprint/claims",
                json={"org": org, "year": year, "factory_id": factory_id, "reference": reference},
            )
        except UpstreamError as exc:
            if exc.status == 403:
                raise FootprintFull(
                    exc.detail,
                    footprint=_number(exc.body, "footprint"),
                    used=_number(exc.body, "used"),
                ) from exc
            raise Unavailable(f"Billing refused the footprint claim: {exc.detail}") from exc
        return _parse(FootprintClaim, reply, self.target)

    async def release_footprint(
        self, *, org: str, year: int, factory_id: str, reference: str
    ) -> None:
        """Undo the claim made with `reference` (a no-op when there is none)."""
        try:
            await self.call(
                "POST",
                "/internal/footprint/claims/release",
                json={"org": org, "year": year, "factory_id": factory_id, "reference": reference},
            )
        except UpstreamError as exc:
            raise Unavailable(f"Billing refused the footprint release: {exc.detail}") from exc


async def install_clients(app: FastAPI) -> None:
    """Start-up hook: one client of each per process (they cache their service token)."""
    app.state.eligibility = EligibilityClient(app.state.http, app.state.settings)
    app.state.billing = BillingClient(app.state.http, app.state.settings)


def _eligibility(request: Request) -> EligibilityClient:
    client: EligibilityClient = request.app.state.eligibility
    return client


def _billing(request: Request) -> BillingClient:
    client: BillingClient = request.app.state.billing
    return client


EligibilityDep = Annotated[EligibilityClient, Depends(_eligibility)]
BillingDep = Annotated[BillingClient, Depends(_billing)]
