"""The real processes: health, readiness, the merged OpenAPI, and a call through the gateway."""

from __future__ import annotations

import pytest

from tests.e2e.world import RunningStack

pytestmark = pytest.mark.e2e


def test_gateway_and_services_are_up(stack: RunningStack) -> None:
    with stack.client() as client:
        assert client.get("/healthz").json()["status"] == "ok"
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        document = client.get("/openapi.json").json()
        assert any(path.startswith("/v1/billing") for path in document["paths"])
        assert client.get("/docs").status_code == 200


def test_call_through_gateway_with_request_id(stack: RunningStack) -> None:
    with stack.client("partner", "brand-1") as client:
        reply = client.get("/v1/billing/healthz", headers={"X-Request-ID": "e2e-1"})
    assert reply.status_code == 200
    assert reply.headers["x-request-id"] == "e2e-1"


def test_no_token_is_401_problem(stack: RunningStack) -> None:
    with stack.client() as client:
        paths = [
            p
            for p in client.get("/openapi.json").json()["paths"]
            if p.startswith("/v1/") and "{" not in p
        ]
        secured = (
            next(
                p for p in paths if "healthz" not in p and "readyz" not in p and "/public" not in p
            )
            if paths
            else "/v1/billing/anything"
        )
        reply = client.get(secured)
    assert reply.status_code in (401, 405)
    assert reply.headers["content-type"].startswith("application/problem+json")
