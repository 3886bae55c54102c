"""The OpenAPI 3.1 `webhooks` section: one entry per event type of the catalogue, its body
the typed event model (`schemas.EVENT_MODELS`, the same components as the feed's union), so
generated clients get a typed model for every webhook."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from services.integrations.schemas import EVENT_MODELS

__all__ = ["install_webhook_docs"]

HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The event's id: the same on every retry; de-duplicate on it.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Unix seconds when this attempt was signed; refuse ones far off.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "Space-separated `v1,<base64 HMAC-SHA256>` of "
        "`<webhook-id>.<webhook-timestamp>.<body>` (Standard Webhooks; two during a secret "
        "rotation's overlap). Verify with a `standardwebhooks` library.",
        "schema": {"type": "string"},
    },
]
RESPONSES: dict[int | str, dict[str, Any]] = {
    "2XX": {"description": "Received: any 2xx acknowledges the event."},
    "default": {
        "description": "Anything else (3xx included: redirects are not followed), or no "
        "answer within 10 s, is a failed attempt, retried with backoff over about three "
        "days; an endpoint failing all of them is disabled."
    },
}


def _receiver(model: type[BaseModel]) -> Callable[..., Any]:
    async def receive(event: Any) -> None:  # documentation only: never called
        return None

    # The body's type is the event model, built at import time from the catalogue.
    receive.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("event", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model)]
    )
    return receive


def install_webhook_docs(app: FastAPI) -> None:
    for name, model in sorted(EVENT_MODELS.items()):
        app.webhooks.add_api_route(
            name,
            _receiver(model),
            methods=["POST"],
            name=f"webhook-{name}",
            operation_id=f"integrations-webhook-{name.replace('.', '-').replace('_', '-')}",
            summary=(model.__doc__ or name).strip().splitlines()[0],
            tags=["webhooks"],
            status_code=200,
            responses=RESPONSES,
            openapi_extra={"parameters": HEADERS},
        )
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        # The service's builder knows no webhooks: render them with the same routes, so the
        # event models get the same component names as in the feed's union, and add them.
        full = get_openapi(
            title=app.title,
            version=app.version,
            routes=app.routes,
            webhooks=app.webhooks.routes,
        )
        schema["webhooks"] = full.get("webhooks", {})
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for component, body in full.get("components", {}).get("schemas", {}).items():
            if component not in ("HTTPValidationError", "ValidationError"):
                components.setdefault(component, body)
        for operation in schema["webhooks"].values():
            responses = operation["post"].setdefault("responses", {})
            for generic in ("200", "422"):  # FastAPI's defaults; RESPONSES says what counts
                responses.pop(generic, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
