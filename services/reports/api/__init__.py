"""Routes of the reports service, one small module per resource: parse, authorise (through
`services.reports.access`), call the domain and the store, shape the reply."""

from __future__ import annotations

from fastapi import APIRouter

from services.reports.api import (
    access_requests,
    audit,
    cycles,
    documents,
    internal,
    memberships,
    notifications,
    plan,
    portal,
    shares,
    suppliers,
    unlocks,
)

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    cycles.router,
    documents.router,
    plan.router,
    access_requests.router,
    unlocks.router,
    audit.router,
    shares.router,
    memberships.router,
    notifications.router,
    portal.router,
    suppliers.router,
    internal.router,
]
