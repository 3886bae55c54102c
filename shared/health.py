"""`/healthz` (the process is up) and `/readyz` (its database and dependencies answer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel

from shared.errors import Unavailable

__all__ = ["Health", "ReadinessCheck", "health_router"]

ReadinessCheck = Callable[[Request], Awaitable[None]]


class Health(BaseModel):
    status: str
    service: str


def health_router(service: str, checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is up.")
    async def get_health() -> Health:
        return Health(status="ok", service=service)

    @router.get(
        "/readyz",
        summary="The service's database and dependencies answer.",
        responses={503: {"description": "Not ready: the problem names what does not answer."}},
    )
    async def get_readiness(request: Request) -> Health:
        for name, check in checks.items():
            try:
                await check(request)
            except Exception as exc:  # any failure means "not ready", named for the operator
                if name == "shutdown":  # SIGTERM came (`shared.shutdown`)
                    raise Unavailable(f"{service} is shutting down.") from exc
                raise Unavailable(f"{service} is not ready: {name} does not answer.") from exc
        return Health(status="ready", service=service)

    return router
