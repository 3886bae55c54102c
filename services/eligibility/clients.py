"""The one service eligibility calls (services/INTERNAL_API.md): reports, for the TPA
states the supplier search shows a buyer. Only that route calls it, never start-up or
another call from reports, so reports → eligibility calls cannot wait on each other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import Unavailable
from shared.http import ServiceClient

__all__ = ["ReportsClient", "ReportsDep", "TpaStates", "install_clients"]

TPA_STATES_BATCH = 1000  # the most reports takes in one look-up


class TpaStates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    org: str
    states: dict[str, str]


class ReportsClient(ServiceClient):
    async def tpa_states(self, *, org: str, factory_ids: Sequence[str]) -> dict[str, str]:
        """The organisation's TPA state per factory (factories it never asked: absent)."""
        wanted = sorted(set(factory_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), TPA_STATES_BATCH):
            body = {"org": org, "factory_ids": wanted[start : start + TPA_STATES_BATCH]}
            # A read (POST only for the size of the id list): safe to retry.
            reply = await self.call("POST", "/internal/tpa-states", json=body, repeatable=True)
            try:
                found.update(TpaStates.model_validate_json(reply.content).states)
            except ValidationError as exc:
                raise Unavailable(
                    "The reports service gave a reply this service cannot read."
                ) from exc
        return found


async def install_clients(app: FastAPI) -> None:
    """Start-up hook: one client per process (it caches its service token)."""
    app.state.reports = ReportsClient(
        app.state.http, app.state.settings, caller="eligibility", target="reports"
    )


def _reports(request: Request) -> ReportsClient:
    client: ReportsClient = request.app.state.reports
    return client


ReportsDep = Annotated[ReportsClient, Depends(_reports)]
