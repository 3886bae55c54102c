"""A small service built with `create_service_app`, standing in for any service: it lets
the platform be tested (roles, errors, bodies, timeouts, idempotency, paging, internal
routes) without depending on any one service's domain."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.app import create_service_app
from shared.auth import AnyRole, Principal, ServiceCaller, require
from shared.db import SessionDep
from shared.errors import Conflict
from shared.idempotency import IdempotencyKey, IdempotencyRecord, idempotent
from shared.pagination import Page, PageDep, paginate, sort_key
from shared.requestid import current_request_id
from shared.settings import Settings

router = APIRouter()
PartnerOnly = Annotated[Principal, require("partner")]


class Echo(BaseModel):
    text: str = Field(max_length=10_000_000)
    count: int = 0


class Echoed(BaseModel):
    text_length: int
    count: int
    org: str
    request_id: str | None


class Move(BaseModel):
    amount: int
    calls: int


class Seen(BaseModel):
    key: str


CALLS = {"moves": 0}


@dataclass(frozen=True)
class Arrival:
    path: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    @property
    def request_id(self) -> str:
        return next(iter(self.header("x-request-id")), "")


# Every request that reached the probe: proof of what the gateway forwarded, and how.
ARRIVALS: list[Arrival] = []


class _RecordRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            ARRIVALS.append(Arrival(scope["path"], headers))
        await self.app(scope, receive, send)


@router.get("/things/{thing_id}", summary="Partners only.")
async def get_thing(thing_id: str, principal: PartnerOnly) -> dict[str, str]:
    return {"id": thing_id, "org": principal.org}


@router.post("/echo", summary="Echo a body back.")
async def create_echo(body: Echo, principal: AnyRole) -> Echoed:
    return Echoed(
        text_length=len(body.text),
        count=body.count,
        org=principal.org,
        request_id=current_request_id(),
    )


@router.get("/public/ping", summary="No token needed.")
async def get_ping(request: Request) -> dict[str, str | None]:
    return {"ping": "pong", "request_id": request.headers.get("x-request-id")}


@router.get("/slow", summary="Answers after a delay.")
async def get_slow(
    principal: AnyRole, seconds: Annotated[float, Query(le=10)] = 1.0
) -> dict[str, float]:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@router.get("/boom", summary="Fails unexpectedly.")
async def get_boom(principal: AnyRole) -> dict[str, str]:
    raise RuntimeError("secret internal detail that must not leak")


@router.post("/moves", status_code=201, summary="An idempotent money movement.")
async def create_move(
    body: Move,
    principal: AnyRole,
    session: SessionDep,
    request: Request,
    key: IdempotencyKey = None,
) -> Move:
    async def run() -> Move:
        CALLS["moves"] += 1
        if body.amount < 0:
            raise Conflict("negative moves are refused")
        await asyncio.sleep(body.calls / 1000)
        return Move(amount=body.amount, calls=CALLS["moves"])

    return await idempotent(  # type: ignore[return-value]
        request=request, session=session, scope=principal.org, key=key, payload=body, run=run
    )


@router.get("/moves", summary="Idempotency keys seen, paged.")
async def list_moves(principal: AnyRole, session: SessionDep, page: PageDep) -> Page[Seen]:
    statement = select(IdempotencyRecord).where(IdempotencyRecord.scope == principal.org)  # type: ignore[arg-type]
    rows, next_cursor = await paginate(
        session,
        statement,
        page,
        key=[sort_key(IdempotencyRecord.key, str)],
    )
    return Page[Seen](items=[Seen(key=r.key) for r in rows], next_cursor=next_cursor)


@router.get("/internal/whoami", summary="Service callers only.")
async def get_whoami(caller: ServiceCaller) -> dict[str, str]:
    return {"caller": caller.user}


def create_probe(settings: Settings) -> FastAPI:
    app = create_service_app(
        service="billing",
        settings=settings,
        routers=[router],
        description="Probe service for platform tests.",
        migrate=False,
    )
    app.add_middleware(_RecordRequests)
    return app
