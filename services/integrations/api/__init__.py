"""Routes of the integrations service, one module per resource; this module gathers their
routers into the one router the app includes (`webhook_docs` adds the OpenAPI `webhooks`
section, `static/` holds the dashboard page's files)."""

from __future__ import annotations

from fastapi import APIRouter

from services.integrations.api import dashboard, events, portfolio, webhook_endpoints

__all__ = ["router"]

router = APIRouter()
for resource in (events, webhook_endpoints, portfolio, dashboard):
    router.include_router(resource.router)
