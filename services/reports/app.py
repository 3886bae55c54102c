"""The reports service (see DESCRIPTION)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.reports.api import router
from services.reports.api.suppliers import close_limiter, install_limiter
from services.reports.clients import install_clients
from services.reports.jobs import unlocking
from services.reports.store.settled import Settled
from shared.app import create_service_app
from shared.settings import Settings, get_settings

DESCRIPTION = """Report cycles and documents, third-party access, unlocks, sharing, memberships,
notifications and the public transparency portal.

Reading a factory's reports needs the factory's third-party access (TPA) approval and an
unlock of the report cycle (participants: one credit; partners: within their footprint).
Users other than advisors need an approved portal membership of their organisation (its
first user is the super-user, who approves the others); pending members get 403.

Errors are RFC 9457 problem details (`application/problem+json`). Every endpoint but the
health checks and the transparency portal (`/public/...`) needs a bearer JWT; the roles
allowed are listed per operation (`x-roles`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    app = create_service_app(
        service="reports",
        settings=settings or get_settings(),
        routers=[router],
        description=DESCRIPTION,
        http_mounts=http_mounts,
        on_startup=[install_clients, install_limiter, unlocking.start_recovery],
        on_shutdown=[unlocking.stop_recovery, close_limiter],
    )
    app.state.settled = Settled()
    return app
