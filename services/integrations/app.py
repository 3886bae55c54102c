"""The integrations service (see DESCRIPTION)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.integrations.api import router
from services.integrations.api.webhook_docs import install_webhook_docs
from services.integrations.clients import install_clients
from services.integrations.jobs import delivery, ingest, retention
from shared.app import create_service_app
from shared.settings import Settings, get_settings

DESCRIPTION = """The event feed of everything that changes for you across the services, for
systems that react instead of poll.

Each service records its events in the same transaction as the change; this service takes
them in, in order, and serves each organisation the events it may see (advisors: their
programmes), oldest first, for 30 days. Event types and their payloads are typed in this
document (the feed's `items` are a union discriminated by `type`).

The same events are delivered as Standard Webhooks to the endpoints you register
(`/webhook-endpoints`): each event type and its body are in this document's `webhooks`.

Errors are RFC 9457 problem details (`application/problem+json`). Every endpoint but the
health checks needs a bearer JWT; the roles allowed are listed per operation (`x-roles`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    http_mounts: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    app = create_service_app(
        service="integrations",
        settings=settings or get_settings(),
        routers=[router],
        description=DESCRIPTION,
        http_mounts=http_mounts,
        on_startup=[
            install_clients,
            ingest.start_pulling,
            delivery.start_delivering,
            retention.start_purging,
        ],
        on_shutdown=[ingest.stop_pulling, delivery.stop_delivering, retention.stop_purging],
        outbox=False,
    )
    install_webhook_docs(app)
    return app
