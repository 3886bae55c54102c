"""The billing service (see DESCRIPTION)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.billing.api import router
from services.billing.rules import published_price_books
from shared.app import create_service_app
from shared.settings import Settings, get_settings

DESCRIPTION = """Price books, quotes, invoices, payments, report credits and the partner footprint.

Errors are RFC 9457 problem details (`application/problem+json`). Every endpoint but the
health checks needs a bearer JWT; the roles allowed are listed per operation (`x-roles`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    published_price_books()  # a broken price book file fails here, not on the first quote
    return create_service_app(
        service="billing",
        settings=settings or get_settings(),
        routers=[router],
        description=DESCRIPTION,
        http_mounts=http_mounts,
    )
