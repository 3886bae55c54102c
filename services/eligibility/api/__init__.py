"""Routes of the eligibility service: parse, authorise, call the domain, shape the reply.
One module per area beside this one; their routers are gathered here for `app.py`."""

from __future__ import annotations

from fastapi import APIRouter

from services.eligibility.api import (
    applications,
    checks,
    factories,
    factory_lists,
    internal,
    nominations,
    programmes,
    suppliers,
)

router = APIRouter()
for area in (
    programmes,
    checks,
    factory_lists,
    factories,
    suppliers,
    nominations,
    applications,
    internal,
):
    router.include_router(area.router)
