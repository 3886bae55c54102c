"""Calling another service: one pooled httpx.AsyncClient per process, short-lived service
tokens, timeouts, and retries only where a retry cannot do the work twice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from shared.auth import mint_service_token
from shared.errors import ApiError, Unavailable
from shared.metrics import observe_upstream, outcome_of, status_outcome
from shared.replicas import DRAINING_HEADER, replicas_of
from shared.requestid import current_request_id
from shared.settings import Settings
from shared.transport import AiohttpTransport

__all__ = ["ServiceClient", "UpstreamError", "make_http_client"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


def make_http_client(
    settings: Settings, mounts: dict[str, httpx.AsyncBaseTransport] | None = None
) -> httpx.AsyncClient:
    """The process's one client, over aiohttp's pool (`shared.transport`: a fraction of
    httpcore's cost per call). `mounts` routes a base URL to an in-process app (tests)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout_s, connect=2.0),
        transport=AiohttpTransport(max_connections=200),
        mounts=mounts,
    )


class UpstreamError(ApiError):
    """Another service answered with an error; carries its status and problem body."""

    def __init__(self, status: int, detail: str, body: dict[str, Any]) -> None:
        self.status = status
        super().__init__(detail)
        self.body = body


class ServiceClient:
    """A typed client's base: `await client.call("POST", "/internal/charges", json=…)`."""

    def __init__(
        self, http: httpx.AsyncClient, settings: Settings, *, caller: str, target: str
    ) -> None:
        self.http = http
        self.settings = settings
        self.caller = caller
        self.target = target
        self.replicas = replicas_of(settings.service_urls(target))
        self._token = ""
        self._token_expires = 0.0

    def _auth(self) -> str:
        now = time.monotonic()
        if now > self._token_expires:
            self._token = mint_service_token(self.settings, service=self.caller, ttl_s=300)
            self._token_expires = now + 240
        return self._token

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        repeatable: bool = False,
    ) -> httpx.Response:
        """Send, retrying transport errors and 502/503/504 for idempotent requests only:
        safe methods, requests with an Idempotency-Key, and `repeatable` ones (whose body
        names its own effect, e.g. a payment reference, so a repeat does nothing more).
        Raises `Unavailable` when the service cannot be reached, `UpstreamError` for its
        4xx/5xx problems; returns the response on 2xx/3xx."""
        headers = {"Authorization": f"Bearer {self._auth()}"}
        request_id = current_request_id()
        if request_id:
            headers["X-Request-ID"] = request_id
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        retryable = (
            repeatable or method.upper() in IDEMPOTENT_METHODS or idempotency_key is not None
        )
        attempts = 1 + (self.settings.http_retries if retryable else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            started = time.perf_counter()
            try:
                response = await self._send(method, path, json=json, params=params, headers=headers)
            except httpx.TransportError as exc:
                spent = time.perf_counter() - started
                observe_upstream(self.caller, self.target, outcome_of(exc), spent)
                if last:
                    raise Unavailable(
                        f"The {self.target} service could not be reached; try again shortly."
                    ) from exc
            else:
                spent = time.perf_counter() - started
                outcome = status_outcome(response.status_code)
                observe_upstream(self.caller, self.target, outcome, spent)
                if response.status_code not in RETRY_STATUSES or last:
                    return self._checked(response)
            await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One attempt: to the next replica in turn, or on to the one after it when that
        refuses the connection (nothing was sent, so any request may go on)."""
        order = self.replicas.order()
        for n, base_url in enumerate(order):
            try:
                response = await self.http.request(method, f"{base_url}{path}", **kwargs)
            except httpx.ConnectError:
                self.replicas.down(base_url)
                if n + 1 < len(order):
                    continue
                raise
            if DRAINING_HEADER in response.headers:
                self.replicas.draining(base_url)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500:
            raise Unavailable(f"The {self.target} service failed to answer; try again shortly.")
        detail = str(body.get("detail") or f"The {self.target} service refused the request.")
        raise UpstreamError(response.status_code, detail, body)
