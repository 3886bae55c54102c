"""What the eligibility handlers share: who may call (typed dependencies), the service's parts
(the decision engine, the registry cache, the list jobs), documented problem replies, the
route class that makes a one-line docstring the OpenAPI summary, and fast JSON replies."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, TypeAdapter, ValidationError

from services.eligibility.domain import Engine
from services.eligibility.domain.nominations import NOMINATING_ROLE, ensure_may_nominate
from services.eligibility.jobs import ScopingJobs
from services.eligibility.store.registry import RegistryCache
from shared.auth import ROLES, Principal, TokenVerifier, current_principal, require
from shared.errors import ApiError, Unauthorized

__all__ = [
    "EngineDep",
    "JobsDep",
    "NominatingPartner",
    "ProgrammeReader",
    "RegistryDep",
    "RegistryReader",
    "UnsupportedMediaType",
    "invalid_body",
    "json_body",
    "json_reply",
    "read_json",
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


ModelT = TypeVar("ModelT", bound=BaseModel)


class UnsupportedMediaType(ApiError):
    status = 415


def json_reply(adapter: TypeAdapter[Any], value: Any, *, status_code: int = 200) -> Response:
    """Serialise straight to JSON bytes (pydantic-core): a 10,000-row bulk reply is not
    validated again against its own model on the way out."""
    return Response(
        adapter.dump_json(value), status_code=status_code, media_type="application/json"
    )


def invalid_body(exc: ValidationError) -> RequestValidationError:
    """A body read by the route itself, reported like FastAPI's own validation errors."""
    return RequestValidationError(
        [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
    )


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "application/json").split(";")[0]
    media_type = media_type.strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def read_json(request: Request, model: type[ModelT]) -> ModelT:
    """Parse and validate a JSON body in one pass of pydantic-core (about twice as fast as
    FastAPI's json.loads-then-validate on a 10,000-row body)."""
    if not is_json(request):
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise invalid_body(exc) from exc


def json_body(model: type[BaseModel], *extra: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its body itself (see `app`, which adds the
    model to the document's components)."""
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
    content.update(dict(extra))
    return {"requestBody": {"required": True, "content": content}}
