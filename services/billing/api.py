"""Routes of the billing service: parse, authorise, call the domain, shape the reply.

One router per resource family, in `routes/`.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.billing.routes import accounts, internal, invoices, prices

router = APIRouter()
for family in (prices, invoices, accounts, internal):
    router.include_router(family.router)
