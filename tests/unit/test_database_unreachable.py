"""A database that refuses connections is a 503 problem with Retry-After, never a 500:
the transaction never committed, so the client can simply retry."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa

from shared.problem_handlers import database_unreachable, install_problem_handlers


def _wrapped(cause: BaseException) -> sa.DBAPIError:
    try:
        raise cause
    except BaseException as inner:
        try:
            raise sa.DBAPIError("SELECT 1", None, inner) from inner
        except sa.DBAPIError as outer:
            return outer


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")),
        _wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")),
        ConnectionRefusedError(111, "Connect call failed"),
        sa.TimeoutError("QueuePool limit reached"),
    ],
    ids=["too-many-clients", "starting-up", "refused", "pool-timeout"],
)
def test_connection_failures_are_recognised(error: BaseException) -> None:
    assert database_unreachable(error)


@pytest.mark.parametrize(
    "error",
    [ValueError("a bug"), _wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key"))],
)
def test_other_errors_are_not(error: BaseException) -> None:
    assert not database_unreachable(error)


async def test_the_reply_is_a_503_problem_with_retry_after() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/busy")
    async def busy() -> None:
        raise _wrapped(asyncpg.exceptions.TooManyConnectionsError("too many clients"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        reply = await client.get("/busy")
    assert reply.status_code == 503
    assert reply.headers["retry-after"] == "1"
    assert reply.headers["content-type"] == "application/problem+json"
    assert "database cannot be reached" in reply.json()["detail"]
