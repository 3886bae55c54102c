"""Helpers for the gateway tests: real uvicorn servers (`serve`, `stop`), the probe +
gateway `Platform` under test and its settings, and the problem+json check of a reply."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from shared.settings import Settings
from shared.stack import free_port
from tests.helpers import TEST_SECRET, token_for


async def serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    # As production starts it (shared.stack.uvicorn_command): no trust in X-Forwarded-For
    # from uvicorn itself; the gateway applies BW_TRUSTED_PROXIES.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


async def stop(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    await task


@dataclass
class Platform:
    settings: Settings
    gateway_url: str
    probe_url: str

    def token(self, role: str, org: str = "org-1", **kw: Any) -> str:
        return token_for(self.settings, role, org, **kw)

    def client(
        self, role: str | None = None, org: str = "org-1", *, direct: bool = False, **kw: Any
    ) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token(role, org, **kw)}"} if role else {}
        base = self.probe_url if direct else self.gateway_url
        return httpx.AsyncClient(base_url=base, headers=headers, timeout=30.0)


def platform_settings(probe_db: str, probe_port: int, **overrides: Any) -> Settings:
    dead = free_port()  # nothing listens there: the "service down" case
    values: dict[str, Any] = {
        "BW_ENV": "test",
        "BW_JWT_SECRET": TEST_SECRET,
        "BW_LOG_LEVEL": "ERROR",
        "BW_UPSTREAM_TIMEOUT": 15,  # generous: the machine may be busy; 504s use their own
        "BW_MAX_BODY_BYTES": 1024 * 1024,
        "BW_RATE_LIMIT_PER_MINUTE": 1_000_000,
        "BW_RATE_LIMIT_BURST": 1_000_000,
        "BILLING_DATABASE_URL": probe_db,
        "BILLING_URL": f"http://127.0.0.1:{probe_port}",
        "ELIGIBILITY_URL": f"http://127.0.0.1:{dead}",
        "REPORTS_URL": f"http://127.0.0.1:{dead}",
        "CYCLES_URL": f"http://127.0.0.1:{dead}",
    }
    values.update(overrides)
    return Settings(**values)


def assert_problem(
    reply: httpx.Response, status: int, *, detail_contains: str = ""
) -> dict[str, Any]:
    """Every error is RFC 9457 problem+json with a detail a person can act on."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json"), reply.headers
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    assert body["title"] and body["type"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    assert "Traceback" not in reply.text
    assert reply.headers.get("x-request-id")
    if detail_contains:
        assert detail_contains.lower() in body["detail"].lower(), body["detail"]
    return body
