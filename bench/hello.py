"""The ceiling: a bare ASGI app under uvicorn, no framework, one fixed reply."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

BODY = b'{"hello":"world"}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"17")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
