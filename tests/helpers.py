"""Helpers every test area shares: the suite's JWT secret, settings and tokens, and plain
functions for requests and replies (not fixtures: tests import them from here, never from a
conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from shared.auth import mint_service_token, mint_token
from shared.settings import SERVICES, Settings

if TYPE_CHECKING:
    from tests.databases import TestDatabases
    from tests.inprocess import Api

TEST_SECRET = "test-secret-for-the-suite-only-0123456789"
ADVISOR_ORG = "bw"
# The Redis the tests share rate limits through (the local server unless BW_TEST_REDIS).
REDIS_URL = os.environ.get("BW_TEST_REDIS", "redis://127.0.0.1:6379/0")


def test_settings(database_urls: dict[str, str], **overrides: Any) -> Settings:
    """The suite's settings on these databases (services at http://<name>.test, as the
    in-process stack mounts them). Its name starts with `test_`: a test module imports the
    module (`from tests import helpers`), not the name, or pytest would collect it."""
    values: dict[str, Any] = {
        "BW_ENV": "test",
        "BW_JWT_SECRET": TEST_SECRET,
        "BW_RATE_LIMIT_PER_MINUTE": 100_000,
        "BW_RATE_LIMIT_BURST": 100_000,
        "BW_HTTP_RETRIES": 1,
        "BW_LOG_LEVEL": "WARNING",
        # Tests take events in when they say so (`tests.helpers`), not on a timer.
        "BW_EVENTS_POLL_SECONDS": 0,
        # List jobs are drained by the tests (`eligibility_jobs.drain()`), not swept.
        "BW_LIST_SWEEP_SECONDS": 0,
        **{f"{s.upper()}_URL": f"http://{s}.test" for s in SERVICES},
        **{f"{s.upper()}_DATABASE_URL": url for s, url in database_urls.items()},
    }
    values.update(overrides)
    return Settings(**values)


def token_for(
    settings: Settings,
    role: str,
    org: str,
    *,
    sub: str | None = None,
    countries: list[str] | None = None,
) -> str:
    """A JWT for `role` in `org` (an advisor sees every country unless told)."""
    if role == "service":
        return mint_service_token(settings, service="tests")
    if role == "advisor" and countries is None:
        countries = ["*"]
    return mint_token(
        settings, sub=sub or f"{role}-user@{org}", org=org, role=role, countries=countries
    )


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def ok(reply: httpx.Response, status: int = 200) -> Any:
    """The reply's JSON body, once its status is the one expected."""
    assert reply.status_code == status, (
        f"{reply.request.method} {reply.request.url}: {reply.status_code} {reply.text}"
    )
    return reply.json()


async def paid_invoice(api: Api, *, role: str, org: str, body: dict[str, Any]) -> dict[str, Any]:
    """An invoice `org` (as `role`) creates through billing, paid in full by the advisor."""
    buyer = api.client("billing", role=role, org=org)
    invoice: dict[str, Any] = ok(await buyer.post("/invoices", json=body, headers=key()), 201)
    advisor = api.client("billing", role="advisor", org=ADVISOR_ORG)
    payment = {"amount": invoice["total"]}
    paid: dict[str, Any] = ok(
        await advisor.post(f"/invoices/{invoice['id']}/payments", json=payment, headers=key()),
        201,
    )
    return paid


def process_env(databases: TestDatabases, **settings: str) -> dict[str, str]:
    """The environment of a stack of real processes in a test: test mode, the suite's JWT
    secret, quiet logs, rate limits out of the way, these databases, then `settings`."""
    return {
        "BW_ENV": "test",
        "BW_JWT_SECRET": TEST_SECRET,
        "BW_LOG_LEVEL": "WARNING",
        "BW_RATE_LIMIT_PER_MINUTE": "1000000",
        "BW_RATE_LIMIT_BURST": "1000000",
        # Few idle connections per process: the suite keeps several stacks up at once
        # and the server has 100 connections for all (bursts use the overflow).
        "BW_DB_POOL_SIZE": "2",
        "BW_DB_MAX_OVERFLOW": "10",
        **databases.env(),
        **settings,
    }


def run_pytest(args: list[str], *, timeout_s: int, **env: str) -> None:
    """Run pytest on `args` in a process of its own, with `env` on top of ours (another
    database route, another stack): every test must pass, none skipped."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    summary = result.stdout[-12000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    last = summary.strip().splitlines()[-1]
    assert " passed" in last and "skipped" not in last and "failed" not in last, summary
