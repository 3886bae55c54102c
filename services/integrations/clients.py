"""Typed clients for the services integrations calls: each source's outbox feed."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import ValidationError

from shared.errors import Unavailable
from shared.http import ServiceClient
from shared.outbox import EventBatch, EventOut
from shared.settings import Settings

__all__ = ["SOURCES", "SourceClient", "install_clients"]

SOURCES = ("eligibility", "billing", "reports", "cycles")


class SourceClient(ServiceClient):
    def __init__(self, http: httpx.AsyncClient, settings: Settings, source: str) -> None:
        super().__init__(http, settings, caller="integrations", target=source)

    async def events(self, *, after: int, limit: int) -> list[EventOut]:
        reply = await self.call("GET", "/internal/events", params={"after": after, "limit": limit})
        try:
            return EventBatch.model_validate_json(reply.content).events
        except ValidationError as exc:
            raise Unavailable(
                f"The {self.target} service sent events this one cannot read."
            ) from exc


async def install_clients(app: FastAPI) -> None:
    app.state.sources = {
        source: SourceClient(app.state.http, app.state.settings, source) for source in SOURCES
    }
