"""Request size limits: headers over `max_header_bytes` get 431 and bodies over
`max_body_bytes` get 413, as problem+json, before the body is read into memory. (uvicorn
itself accepts headers of any size.)"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.requestid import current_request_id

__all__ = ["RequestLimitsMiddleware"]


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", ())
        if sum(len(name) + len(value) + 4 for name, value in headers) > self.max_header_bytes:
            await self._reply(
                send,
                scope,
                431,
                f"The request headers are larger than {self.max_header_bytes} bytes; "
                "send fewer or shorter headers.",
            )
            return
        for name, value in headers:
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
        started = rejected = False

        async def limited_receive() -> Message:
            # Over the limit: answer 413 ourselves, then tell the app the client is gone (an
            # exception here would reach the app's body parser and come out as a 400).
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not started:
                    rejected = True
                    await self._reply_too_large(send, scope)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 has been sent; whatever the app answers now is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)

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
        title = {413: "Content Too Large", 431: "Request Header Fields Too Large"}.get(
            status, "Bad Request"
        )
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
