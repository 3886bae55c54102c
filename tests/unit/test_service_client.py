"""The service-to-service client: service tokens, request ids, retries only where safe."""

from __future__ import annotations

import httpx
import pytest

from shared.auth import TokenVerifier
from shared.errors import Unavailable
from shared.http import ServiceClient, UpstreamError
from shared.settings import Settings

SETTINGS = Settings(BW_JWT_SECRET="s" * 40, BW_HTTP_RETRIES=2, BILLING_URL="http://billing.test")


def client_for(handler: httpx.MockTransport) -> ServiceClient:
    http = httpx.AsyncClient(transport=handler)
    return ServiceClient(http, SETTINGS, caller="reports", target="billing")


async def test_sends_a_service_token_the_target_accepts() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    reply = await client_for(httpx.MockTransport(handler)).call("GET", "/internal/x")
    assert reply.json() == {"ok": True}
    token = seen[0].headers["authorization"].removeprefix("Bearer ")
    principal = TokenVerifier(SETTINGS).verify_service(token)
    assert principal.user == "service:reports"
    assert str(seen[0].url) == "http://billing.test/internal/x"


@pytest.mark.parametrize(
    ("method", "key", "attempts"),
    [
        ("GET", None, 3),
        ("POST", None, 1),
        ("POST", "unlock-1", 3),
    ],
)
async def test_retries_only_idempotent_calls(method: str, key: str | None, attempts: int) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"detail": "busy"})

    with pytest.raises(Unavailable):
        await client_for(httpx.MockTransport(handler)).call(
            method, "/internal/x", idempotency_key=key
        )
    assert calls == attempts


async def test_retry_recovers_from_a_passing_failure() -> None:
    replies = iter([httpx.Response(502), httpx.Response(200, json={"n": 1})])
    reply = await client_for(httpx.MockTransport(lambda r: next(replies))).call("GET", "/x")
    assert reply.json() == {"n": 1}


async def test_unreachable_service_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Unavailable, match="billing service could not be reached"):
        await client_for(httpx.MockTransport(handler)).call("GET", "/x")


async def test_client_errors_carry_the_upstream_problem() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(402, json={"status": 402, "detail": "No credits left."})

    with pytest.raises(UpstreamError) as caught:
        await client_for(httpx.MockTransport(handler)).call(
            "POST", "/internal/credits/spend", idempotency_key="k"
        )
    assert caught.value.status == 402
    assert caught.value.detail == "No credits left."
