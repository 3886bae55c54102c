"""Helpers for the eligibility API tests: a factory to register (`BD_FACTORY`), registering
and enrolling it through the API, and the problem+json check of a reply."""

from __future__ import annotations

from typing import Any

import httpx

BD_FACTORY: dict[str, Any] = {
    "name": "Golden Star Apparels Ltd",
    "address": "Plot 12, Konabari, Gazipur",
    "country": "BD",
    "region": "Gazipur",
    "products": ["garments"],
    "worker_count": 1200,
    "female_worker_share": 0.6,
    "operating_since": "2015-03-01",
    "in_export_processing_zone": False,
    "has_export_license": True,
    "os_id": "BD2019085ABCDEF",
}


async def create_factory(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    body = {**BD_FACTORY, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    reply = await client.post("/factories", json=body)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


async def enrol(client: httpx.AsyncClient, factory_id: str) -> None:
    reply = await client.post(f"/factories/{factory_id}/enrolment", json={"status": "enrolled"})
    assert reply.status_code == 200, reply.text


def problem(reply: httpx.Response, status: int) -> dict[str, Any]:
    """The reply is a problem+json of `status`; returns its body."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = reply.json()
    assert body["status"] == status and body["detail"]
    return body
