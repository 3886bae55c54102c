"""Routes of the integrations service, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from services.integrations.api import events, webhook_endpoints
from services.integrations.portfolio import api as portfolio
from services.integrations.portfolio import dashboard

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    events.router,
    webhook_endpoints.router,
    portfolio.router,
    dashboard.router,
]
