"""X-Request-ID on every request and response, and in every log line of that request.

A pure ASGI middleware (not BaseHTTPMiddleware) so that streaming bodies pass untouched.
It is also the last line of defence: an exception nothing else handled becomes a 500
problem+json that says only "internal error" and the request id; the trace goes to the log.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "current_request_id"]

REQUEST_ID_HEADER = "x-request-id"
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# Echo what the caller sent when it is a sane token; otherwise mint our own.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
log = logging.getLogger("betterwork.request")


def current_request_id() -> str | None:
    return _request_id.get()


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = bytes(value).decode("latin-1")
            if _SAFE_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        token = _request_id.set(request_id)
        started = answered = False
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal started, answered
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if answered:
                # Starlette re-raises after the problem handler has answered (and logged):
                # the client has its problem+json, and a second traceback would only cost.
                return
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": "Internal Server Error",
                    "status": 500,
                    "detail": "internal error",
                    "instance": scope.get("path", ""),
                    "request_id": request_id,
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        header,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            _request_id.reset(token)
