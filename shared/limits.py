"""Request body size limit: 413 problem+json before the body is read into memory."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.requestid import current_request_id

__all__ = ["BodyLimitMiddleware"]


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._reply(
                        send, scope, 400, "The Content-Length header is not a number."
                    )
                    return
                if declared > self.max_bytes:
                    await self._reply_too_large(send, scope)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reply_too_large(send, scope)

    async def _reply_too_large(self, send: Send, scope: Scope) -> None:
        limit_mb = self.max_bytes / (1024 * 1024)
        await self._reply(
            send,
            scope,
            413,
            f"The request body is larger than the limit of {limit_mb:.1f} MiB; "
            "split it into smaller requests.",
        )

    @staticmethod
    async def _reply(send: Send, scope: Scope, status: int, detail: str) -> None:
        title = "Content Too Large" if status == 413 else "Bad Request"
        problem = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
        }
        request_id = current_request_id()
        if request_id:
            problem["request_id"] = request_id
        body = json.dumps(problem).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
