"""A database that refuses connections is a 503 problem with Retry-After (nothing was
written), on a real PostgreSQL refusal: a role allowed no connections at all."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.billing.api import router
from shared.app import create_service_app
from shared.settings import Settings
from tests.databases import PG_ADMIN_DSN
from tests.helpers import token_for

pytestmark = pytest.mark.postgres

ROLE = "bwt_no_connections"


async def test_a_refused_connection_is_503(settings: Settings) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE)
        if not exists:
            await admin.execute(f"CREATE ROLE {ROLE} LOGIN CONNECTION LIMIT 0")
    finally:
        await admin.close()
    url = settings.database_url("billing").replace("postgres@", f"{ROLE}@", 1)
    refused = settings.model_copy(update={"billing_database_url": url})
    app = create_service_app(
        service="billing", settings=refused, routers=[router], description="", migrate=False
    )
    token = token_for(refused, "participant", "buyer-1")
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing.test") as client:
            reply = await client.get("/invoices", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 503, reply.text
    assert reply.headers["retry-after"] == "1"
    assert reply.headers["content-type"] == "application/problem+json"
