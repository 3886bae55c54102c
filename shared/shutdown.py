"""Graceful shutdown on SIGTERM (what Kubernetes sends before it stops a pod).

1. `/readyz` fails at once (503), so the load balancer (or the Service's endpoints) stops
   sending new requests here; every reply meanwhile says `Connection: close`, so callers
   (the gateway's pool, a service client's) drop their kept-alive connections to us, and
   `X-Service-Draining`, so callers that address replicas themselves send the next ones
   elsewhere and know why a request to us breaks off (`shared.replicas`).
2. After `BW_SHUTDOWN_DRAIN_SECONDS` the server's own SIGTERM handling runs: uvicorn stops
   accepting, lets the requests in flight finish (within `--timeout-graceful-shutdown`),
   then the lifespan's shutdown stops the background loops, each after the round it is in
   (within `BW_SHUTDOWN_GRACE_SECONDS`, `shared.background`).
3. The process exits. A caller that comes after the listener closed is refused a
   connection, which the gateway answers with 503 and Retry-After.

A second SIGTERM skips the wait. The handler chains onto the server's: run in-process
(tests), where no server handles SIGTERM, nothing is installed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.replicas import DRAINING_HEADER

__all__ = ["Drain", "DrainMiddleware"]

log = logging.getLogger("betterwork.shutdown")
Handler = Callable[[int, FrameType | None], Any]


class Drain:
    """The process's shutdown state: `draining` once SIGTERM has come."""

    def __init__(self, drain_s: float) -> None:
        self.drain_s = drain_s
        self.draining = False
        self._previous: Handler | None = None

    def install(self) -> None:
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return  # no server here handles SIGTERM: nothing to delay
        loop = asyncio.get_running_loop()

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if self.draining:  # asked twice: stop now
                previous(signum, frame)
                return
            self.draining = True
            log.info("SIGTERM: not ready; stopping in %.1f s", self.drain_s)
            loop.call_soon_threadsafe(loop.call_later, self.drain_s, previous, signum, frame)

        try:
            signal.signal(signal.SIGTERM, on_sigterm)
        except ValueError:  # not the main thread: leave the server's handling alone
            return
        self._previous = previous

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None

    def check_ready(self) -> None:
        if self.draining:
            raise RuntimeError("shutting down")


class DrainMiddleware:
    """While draining, every reply closes its connection (see the module's step 1)."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.drain.draining:
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                closing = [(b"connection", b"close"), (DRAINING_HEADER.encode(), b"1")]
                message = {**message, "headers": [*headers, *closing]}
            await send(message)

        await self.app(scope, receive, send_closing)
