"""The cycles service (see DESCRIPTION)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.cycles import jobs
from services.cycles.api import router
from shared.app import create_service_app
from shared.settings import Settings, get_settings

DESCRIPTION = """Factory service cycles, schedules, visits, unannounced assessments, training,
seminars and differentiation.

Errors are RFC 9457 problem details (`application/problem+json`). Every endpoint but the
health checks needs a bearer JWT; the roles allowed are listed per operation (`x-roles`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    return create_service_app(
        service="cycles",
        settings=settings or get_settings(),
        routers=[router],
        description=DESCRIPTION,
        http_mounts=http_mounts,
        on_startup=[jobs.start_scheduler],
        on_shutdown=[jobs.stop_scheduler],
    )
