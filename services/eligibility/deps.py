"""Typed dependencies of the eligibility routes: who may call, and the service's parts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.eligibility.domain import Engine
from services.eligibility.jobs import ScopingJobs
from services.eligibility.nominations import NOMINATING_ROLE, ensure_may_nominate
from services.eligibility.registry import RegistryCache
from shared.auth import ROLES, Principal, TokenVerifier, current_principal, require
from shared.errors import ApiError, Unauthorized

__all__ = [
    "EngineDep",
    "JobsDep",
    "NominatingPartner",
    "ProgrammeReader",
    "RegistryDep",
    "RegistryReader",
]

RegistryReader = Annotated[Principal, require("advisor", "factory")]


async def _nominating_partner(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    """A partner brand: the 403 for anyone else says why (the guide's partner rule)."""
    ensure_may_nominate(principal)
    return principal


_nominating_partner.__roles__ = (NOMINATING_ROLE,)  # type: ignore[attr-defined]  # x-roles
NominatingPartner = Annotated[Principal, Depends(_nominating_partner)]

_bearer = HTTPBearer(auto_error=False, description="A JWT from the identity provider.")


async def _user_or_service(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Any user role, or another Better Work service (cycles reads training
    participant-days from the programme rules with its service token)."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send a bearer token: 'Authorization: Bearer <jwt>'.")
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify_user(credentials.credentials)
    except ApiError as user_error:
        try:
            return verifier.verify_service(credentials.credentials)
        except ApiError:
            raise user_error from None


_user_or_service.__roles__ = ROLES  # type: ignore[attr-defined]  # OpenAPI x-roles
ProgrammeReader = Annotated[Principal, Depends(_user_or_service)]


async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.decision_engine
    return engine


async def _registry(request: Request) -> RegistryCache:
    registry: RegistryCache = request.app.state.registry
    return registry


async def _jobs(request: Request) -> ScopingJobs:
    jobs: ScopingJobs = request.app.state.jobs
    return jobs


EngineDep = Annotated[Engine, Depends(_engine)]
RegistryDep = Annotated[RegistryCache, Depends(_registry)]
JobsDep = Annotated[ScopingJobs, Depends(_jobs)]
