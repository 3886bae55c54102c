"""Answering every error as RFC 9457 problem details: the handlers each app installs
(`install_problem_handlers`). Kept apart from `shared.errors` (the error types the rules
raise) because they know the database driver: a domain module raises `Conflict` without
importing SQLAlchemy."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import ApiError, ProblemResponse, problem_response

__all__ = ["database_unreachable", "install_problem_handlers"]

log = logging.getLogger("betterwork.errors")


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is the database refusing or dropping connections:
    the server down, out of connection slots, the pool exhausted. The transaction never
    committed, so the request can be answered 503 and retried."""
    from asyncpg import exceptions as pg
    from sqlalchemy import exc as sa

    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if isinstance(
            seen,
            ConnectionError
            | sa.TimeoutError
            | pg.TooManyConnectionsError
            | pg.CannotConnectNowError
            | pg.ConnectionDoesNotExistError,
        ):
            return True
        if isinstance(seen, sa.DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        errors.append(
            {
                "loc": loc,
                "field": ".".join(loc[1:]) or loc[0] if loc else "",
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return errors


def _summarise(errors: list[dict[str, Any]]) -> str:
    parts = [f"{e['field'] or 'body'}: {e['msg']}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "The request is not valid. " + "; ".join(parts) + more


def install_problem_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, ApiError)
        return problem_response(
            exc.status,
            exc.detail,
            instance=request.url.path,
            headers=exc.headers,
            title=exc.title,
            **exc.extra,
        )

    async def on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        # A body that is not JSON at all is a 400-class mistake of the client, but FastAPI
        # reports it as a validation error; keep 422 (one status for "fix your request").
        return problem_response(422, _summarise(errors), instance=request.url.path, errors=errors)

    async def on_http_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no resource at {request.url.path}."
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem_response(
            exc.status_code, detail, instance=request.url.path, headers=dict(exc.headers or {})
        )

    async def on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
        if database_unreachable(exc):
            log.warning("database unreachable on %s %s: %s", request.method, request.url.path, exc)
            return problem_response(
                503,
                "The service's database cannot be reached right now (nothing was changed); "
                "try again shortly.",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal error", instance=request.url.path)

    # Handlers for these classes run inside the app's middleware (a catch-all for
    # `Exception` would only run outside it, after the request-id middleware answered).
    from sqlalchemy import exc as sa_exc

    for database_error in (sa_exc.DBAPIError, sa_exc.TimeoutError, ConnectionError):
        app.add_exception_handler(database_error, on_unexpected)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
