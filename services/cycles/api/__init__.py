"""Routes of the cycles service: parse, authorise, call the domain, shape the reply.

One module per topic beside this one; this module gathers them into the one router the
app includes."""

from __future__ import annotations

from fastapi import APIRouter

from services.cycles.api import calendar, classification, cycles, seminars, training, visits

__all__ = ["router"]

router = APIRouter()
for topic in (cycles, visits, training, seminars, classification, calendar):
    router.include_router(topic.router)
