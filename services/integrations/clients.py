"""Typed clients for the services integrations calls: each source's outbox feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import Unavailable
from shared.http import ServiceClient
from shared.settings import Settings

__all__ = ["SOURCES", "SourceClient", "SourceEvent", "install_clients"]

SOURCES = ("eligibility", "billing", "reports", "cycles")


class SourceEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sequence: int
    id: str
    type: str
    occurred_at: datetime
    subject: dict[str, str]
    data: dict[str, Any]
    orgs: list[str]
    countries: list[str]


class _Batch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    events: list[SourceEvent]
    last_sequence: int


class SourceClient(ServiceClient):
    def __init__(self, http: httpx.AsyncClient, settings: Settings, source: str) -> None:
        super().__init__(http, settings, caller="integrations", target=source)

    async def events(self, *, after: int, limit: int) -> list[SourceEvent]:
        reply = await self.call("GET", "/internal/events", params={"after": after, "limit": limit})
        try:
            return _Batch.model_validate_json(reply.content).events
        except ValidationError as exc:
            raise Unavailable(
                f"The {self.target} service sent events this one cannot read."
            ) from exc


async def install_clients(app: FastAPI) -> None:
    app.state.sources = {
        source: SourceClient(app.state.http, app.state.settings, source) for source in SOURCES
    }
