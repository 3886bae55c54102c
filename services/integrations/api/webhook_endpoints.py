"""Webhook endpoints: where an organisation's events are POSTed, signed (Standard
Webhooks). An endpoint belongs to the caller's organisation and receives what its
registrant's feed shows; every route checks the endpoint is the caller's (404 otherwise).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.integrations.domain import signing
from services.integrations.jobs import ssrf
from services.integrations.models import WebhookAttempt, WebhookEndpoint
from services.integrations.schemas import event_types
from services.integrations.schemas.webhooks import (
    AttemptPublic,
    EndpointCreate,
    EndpointPublic,
    EndpointUpdate,
    EndpointWithSecret,
    Queued,
    Redeliver,
)
from services.integrations.store import hooks
from shared.app import problem_responses
from shared.auth import AnyRole, Principal
from shared.db import SessionDep
from shared.errors import NotFound, Unprocessable
from shared.events.integrations import WebhookTest
from shared.ids import new_id
from shared.pagination import Page, PageDep, paginate, sort_key
from shared.types import Id

router = APIRouter(tags=["webhooks"])

MAX_ENDPOINTS = 20  # per organisation: plenty for real integrations, bounded for abuse
ROTATION_OVERLAP = timedelta(hours=24)
REDELIVER_LIMIT = 10_000
EndpointId = Annotated[
    Id, Path(description="The endpoint's id (`whep_…`).", examples=["whep_01JD3ZQ8V5N1W2X3"])
]


def _public(row: WebhookEndpoint) -> EndpointPublic:
    return EndpointPublic(
        id=row.id,
        url=row.url,
        event_types=json.loads(row.event_types),
        description=row.description,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _with_secret(row: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret(
        **_public(row).model_dump(),
        secret=row.secret,
        previous_secret_expires_at=row.previous_secret_until if row.previous_secret else None,
    )


def _check_types(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(event_types()))
    if unknown:
        raise Unprocessable(
            f"Unknown event type(s): {', '.join(unknown)}. The types are: "
            f"{', '.join(event_types())}.",
            errors=[{"loc": ["body", "event_types"], "field": "event_types", "msg": "unknown"}],
        )
    return sorted(set(types))


async def _check_url(request: Request, url: str) -> None:
    production = request.app.state.settings.environment == "production"
    try:
        await ssrf.check_url(url, production=production)
    except ssrf.UnsafeUrl as exc:
        raise Unprocessable(
            f"This URL cannot receive webhooks: {exc}",
            errors=[{"loc": ["body", "url"], "field": "url", "msg": str(exc)}],
        ) from None


async def _owned(session: AsyncSession, caller: Principal, endpoint_id: str) -> WebhookEndpoint:
    row = await session.get(WebhookEndpoint, endpoint_id)
    if row is None or not hooks.may_manage(caller, row):
        raise NotFound(f"There is no webhook endpoint {endpoint_id!r} (or it is not yours).")
    return row


@router.post(
    "/webhook-endpoints",
    status_code=201,
    response_model=EndpointWithSecret,
    responses=problem_responses(422),
)
async def create_endpoint(
    body: EndpointCreate, caller: AnyRole, session: SessionDep, request: Request
) -> EndpointWithSecret:
    """Register a receiver for your organisation's events (advisors: your programmes').

    The reply carries the signing `secret` — the only time it is shown. Deliveries start
    with the events taken in after now; `/redeliver` sends older ones. At most 20
    endpoints per organisation.
    """
    types = _check_types(body.event_types)
    await _check_url(request, body.url)
    if session.get_bind().dialect.name == "postgresql":
        # One registration per organisation at a time, so two at once cannot both pass the
        # cap (SQLite serialises writers anyway).
        await session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("whep:" + caller.org)))
        )
    count = await session.scalar(
        sa.select(sa.func.count()).where(col(WebhookEndpoint.org) == caller.org)
    )
    if int(count or 0) >= MAX_ENDPOINTS:
        raise Unprocessable(
            f"Your organisation has {MAX_ENDPOINTS} webhook endpoints, the limit: delete one "
            "first (one endpoint can take every event type).",
            limit=MAX_ENDPOINTS,
        )
    now = datetime.now(UTC)
    row = WebhookEndpoint(
        id=new_id("whep"),
        org=caller.org,
        role=caller.role,
        audiences=json.dumps(hooks.audiences_of(caller)),
        url=body.url,
        description=body.description,
        event_types=json.dumps(types),
        enabled=body.enabled,
        secret=signing.new_secret(),
        scanned_position=await hooks.last_position(session=session),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _with_secret(row)


@router.get("/webhook-endpoints", response_model=Page[EndpointPublic])
async def list_endpoints(
    caller: AnyRole, session: SessionDep, page: PageDep
) -> Page[EndpointPublic]:
    """Your organisation's webhook endpoints (without their secrets)."""
    statement = sa.select(WebhookEndpoint).where(col(WebhookEndpoint.org) == caller.org)
    rows, cursor = await paginate(session, statement, page, key=[sort_key(WebhookEndpoint.id, str)])
    items = [_public(row) for row in rows if hooks.may_manage(caller, row)]
    return Page[EndpointPublic](items=items, next_cursor=cursor)


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response_model=EndpointPublic,
    responses=problem_responses(404),
)
async def get_endpoint(
    caller: AnyRole, session: SessionDep, endpoint_id: EndpointId
) -> EndpointPublic:
    """One of your webhook endpoints."""
    return _public(await _owned(session, caller, endpoint_id))


@router.patch(
    "/webhook-endpoints/{endpoint_id}",
    response_model=EndpointPublic,
    responses=problem_responses(404, 422),
)
async def update_endpoint(
    body: EndpointUpdate,
    caller: AnyRole,
    session: SessionDep,
    request: Request,
    endpoint_id: EndpointId,
) -> EndpointPublic:
    """Change the URL, the event types, the description, or pause/resume (`enabled`).

    Enabling an endpoint that was disabled resumes its pending deliveries (they are kept
    30 days, as their events are; then deleted); events taken in while it was disabled are
    not sent (ask `/redeliver` with `since` for them).
    """
    row = await _owned(session, caller, endpoint_id)
    if body.url is not None:
        await _check_url(request, body.url)
        row.url = body.url
    if body.event_types is not None:
        row.event_types = json.dumps(_check_types(body.event_types))
    if body.description is not None:
        row.description = body.description
    if body.enabled is not None and body.enabled != row.enabled:
        row.enabled = body.enabled
        if body.enabled:
            row.disabled_reason = None
            # Resume from now: a paused endpoint does not get a flood of old events.
            row.scanned_position = await hooks.last_position(session=session)
    row.updated_at = datetime.now(UTC)
    await session.flush()
    return _public(row)


@router.delete(
    "/webhook-endpoints/{endpoint_id}", status_code=204, responses=problem_responses(404)
)
async def delete_endpoint(
    caller: AnyRole, session: SessionDep, endpoint_id: EndpointId
) -> Response:
    """Delete an endpoint with its pending deliveries and attempts."""
    row = await _owned(session, caller, endpoint_id)
    await session.delete(row)
    await session.flush()
    return Response(status_code=204)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response_model=EndpointWithSecret,
    responses=problem_responses(404),
)
async def rotate_secret(
    caller: AnyRole, session: SessionDep, endpoint_id: EndpointId
) -> EndpointWithSecret:
    """A new signing secret. For 24 hours the old one signs too (two signatures in
    `webhook-signature`, separated by a space), so receivers can switch without a gap."""
    row = await _owned(session, caller, endpoint_id)
    now = datetime.now(UTC)
    row.previous_secret, row.previous_secret_until = row.secret, now + ROTATION_OVERLAP
    row.secret = signing.new_secret()
    row.updated_at = now
    await session.flush()
    return _with_secret(row)


@router.post(
    "/webhook-endpoints/{endpoint_id}/test",
    status_code=202,
    response_model=Queued,
    responses=problem_responses(404),
)
async def send_test(caller: AnyRole, session: SessionDep, endpoint_id: EndpointId) -> Queued:
    """Send a `webhook.test` event to this endpoint only (it is in no feed); its attempts
    show under `/attempts`."""
    row = await _owned(session, caller, endpoint_id)
    payload = WebhookTest(endpoint_id=row.id, message="A test event from Better Work.")
    position, event_id = await hooks.record_own_event(
        session=session,
        payload=payload,
        subject={"type": "webhook_endpoint", "id": row.id},
        audiences=[],
    )
    await hooks.enqueue(
        session=session, endpoint_id=row.id, events=[(position, event_id)], now=datetime.now(UTC)
    )
    return Queued(queued=1, event_id=event_id)


@router.post(
    "/webhook-endpoints/{endpoint_id}/redeliver",
    status_code=202,
    response_model=Queued,
    responses=problem_responses(404, 422),
)
async def redeliver(
    body: Redeliver, caller: AnyRole, session: SessionDep, endpoint_id: EndpointId
) -> Queued:
    """Send again one event (`event_id`) or every event it receives since a time
    (`since`, at most 10,000), whatever happened to them before."""
    row = await _owned(session, caller, endpoint_id)
    events = await hooks.matching_positions(
        session=session,
        endpoint=row,
        since=body.since,
        event_id=body.event_id,
        limit=REDELIVER_LIMIT,
    )
    if body.event_id is not None and not events:
        raise NotFound(f"This endpoint does not receive an event {body.event_id!r}.")
    for start in range(0, len(events), 500):
        await hooks.enqueue(
            session=session,
            endpoint_id=row.id,
            events=events[start : start + 500],
            now=datetime.now(UTC),
            again=True,
        )
    return Queued(queued=len(events))


@router.get(
    "/webhook-endpoints/{endpoint_id}/attempts",
    response_model=Page[AttemptPublic],
    responses=problem_responses(404),
)
async def list_attempts(
    caller: AnyRole, session: SessionDep, endpoint_id: EndpointId, page: PageDep
) -> Page[AttemptPublic]:
    """The delivery attempts of this endpoint, oldest first: status code, latency, error,
    and when a failed delivery is tried again."""
    await _owned(session, caller, endpoint_id)
    statement = sa.select(WebhookAttempt).where(col(WebhookAttempt.endpoint_id) == endpoint_id)
    rows, cursor = await paginate(session, statement, page, key=[sort_key(WebhookAttempt.id, int)])
    items = [
        AttemptPublic(
            id=str(a.id),
            event_id=a.event_id,
            attempt=a.attempt,
            status_code=a.status_code,
            latency_ms=a.latency_ms,
            error=a.error,
            next_retry_at=a.next_retry_at,
            created_at=a.created_at,
        )
        for a in rows
    ]
    return Page[AttemptPublic](items=items, next_cursor=cursor)
