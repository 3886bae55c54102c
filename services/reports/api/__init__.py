"""Routes of the reports service, one small module per resource: parse, authorise (through
`services.reports.domain.access`), call the domain and the store, shape the reply."""

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

__all__ = ["router"]

router = APIRouter()
for resource in (
    cycles,
    documents,
    plan,
    access_requests,
    unlocks,
    audit,
    shares,
    memberships,
    notifications,
    portal,
    suppliers,
    internal,
):
    router.include_router(resource.router)
