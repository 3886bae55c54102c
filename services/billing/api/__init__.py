"""Routes of the billing service: parse, authorise, call the domain, shape the reply.

One module per resource family beside this one; this module gathers their routers into
the one router the app includes.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.billing.api import accounts, internal, invoices, prices

router = APIRouter()
for family in (prices, invoices, accounts, internal):
    router.include_router(family.router)
