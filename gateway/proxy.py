"""Forwarding `/v1/<service>/<path>` to a service: refuse paths with more than one reading
(`gateway.paths`), find the operation (`gateway.catalogue`; none is a 404), verify the
token, check the role, apply the organisation's rate limit, then stream the request and
the reply through one pooled httpx client, to the next of the service's replicas in turn
(`shared.replicas`). Retries only a refused connection, on another replica (nothing was
sent; a POST that reached a service might be done twice); a service that cannot be reached
is a 503, one that is too slow a 504, one that breaks the protocol a 502 (`gateway.upstream`)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from gateway.catalogue import Catalogue, Operation
from gateway.paths import Target, target_of
from gateway.upstream import upstream_error
from shared import tracing
from shared.auth import Principal, TokenVerifier
from shared.errors import ApiError, Forbidden, NotFound, TooManyRequests, Unauthorized, problem_body
from shared.metrics import observe_upstream, outcome_of, status_outcome
from shared.ratelimit import RateLimiter, limit_field, policy_field, retry_after
from shared.replicas import DRAINING_HEADER, replicas_of
from shared.requestid import current_request_id
from shared.settings import SERVICES, Settings

__all__ = ["Proxy"]

log = logging.getLogger("betterwork.gateway")
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"x-request-id",
    }
)
# What a client says about where it came from is its claim, not a fact: never passed on. The
# gateway tells the service the one address it believes (the peer, or the client named by a
# proxy in BW_TRUSTED_PROXIES) in its own X-Forwarded-For.
FORWARDING = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-forwarded-proto",
        b"x-real-ip",
    }
)
REQUEST_DROPPED = HOP_BY_HOP | FORWARDING
# The gateway's own server adds these to every reply; the service's copies would duplicate
# them. The rate-limit fields are the gateway's to give.
REPLY_DROPPED = HOP_BY_HOP | {
    b"date",
    b"server",
    b"ratelimit",
    b"ratelimit-policy",
    DRAINING_HEADER.encode(),  # between a service and its callers only
}
Headers = list[tuple[bytes, bytes]]
# Bodies up to this size are read whole (fast path); larger ones are streamed.
BUFFER_LIMIT = 64 * 1024


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _bearer(scope: Scope) -> str:
    value = _header(scope, b"authorization")
    if not value:
        raise Unauthorized("Send a bearer token: 'Authorization: Bearer <jwt>'.")
    scheme, _, token = value.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <jwt>'.")
    return token.strip()


async def _send_problem(send: Send, scope: Scope, error: ApiError, extra: Headers) -> None:
    import json

    body = json.dumps(
        problem_body(error.status, error.detail, instance=scope["path"], **error.extra)
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    headers += extra
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ClientGone(Exception):
    """The client went away (or was refused) while its body was being forwarded."""


class Proxy:
    def __init__(
        self,
        settings: Settings,
        transports: dict[str, httpx.AsyncBaseTransport],
        verifier: TokenVerifier,
        catalogue: Catalogue,
        limiter: RateLimiter,
    ) -> None:
        self.settings = settings
        # One transport per replica's base URL, used directly: the client layers of httpx
        # (cookies, redirects, URL merging) are work a proxy must not do and cost a third of
        # its time.
        self.transports = transports
        self.replicas = {s: replicas_of(settings.service_urls(s)) for s in SERVICES}
        self.base_paths = {url: httpx.URL(url).path.rstrip("/") for url in transports}
        self.verifier = verifier
        self.catalogue = catalogue
        self.limiter = limiter
        self.policy = (
            b"ratelimit-policy",
            policy_field(
                per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
            ).encode(),
        )
        self.timeout = {
            "connect": 2.0,
            "read": settings.upstream_timeout_s,
            "write": settings.upstream_timeout_s,
            "pool": settings.upstream_timeout_s,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit: Headers = []  # the RateLimit fields, once the request has counted
        try:
            target = target_of(scope)
            operation = await self.catalogue.resolve(target.service, scope["method"], target.path)
            route = scope["bw.route"] = f"/v1/{target.service}{operation.template}"
            if tracing.ENABLED:
                tracing.rename_server_span(f"{scope['method']} {route}")
            principal = await self._authorise(scope, operation)
            limit = await self._rate_limit(scope, principal)
            await self._forward(scope, receive, send, target, limit)
        except ApiError as error:
            await _send_problem(send, scope, error, limit)

    async def _authorise(self, scope: Scope, operation: Operation) -> Principal | None:
        if operation.public:
            return None
        principal = await self.verifier.verify_user(_bearer(scope))
        if operation.roles is not None and principal.role not in operation.roles:
            raise Forbidden(
                f"This endpoint is for the role(s) {', '.join(operation.roles)}; "
                f"your token has role {principal.role!r}."
            )
        return principal

    async def _rate_limit(self, scope: Scope, principal: Principal | None) -> Headers:
        if principal is not None:
            key = f"org:{principal.org}"
        else:
            client = scope.get("client")
            key = f"ip:{client[0] if client else 'unknown'}"
        decision = await self.limiter.acquire(key)
        limit = [self.policy, (b"ratelimit", limit_field(decision).encode())]
        if not decision.allowed:
            raise TooManyRequests(
                f"Too many requests for {key.split(':', 1)[1]!r}: the limit is "
                f"{self.settings.rate_limit_per_minute} per minute "
                f"(bursts of {self.settings.rate_limit_burst}); retry after the delay given.",
                headers={
                    "Retry-After": retry_after(decision.wait_s),
                    **{name.decode(): value.decode() for name, value in limit},
                },
            )
        return limit

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, target: Target, limit: Headers
    ) -> None:
        service = target.service
        query = scope.get("query_string", b"")
        headers: list[tuple[bytes, bytes]] = [
            (k, v) for k, v in scope["headers"] if k not in REQUEST_DROPPED
        ]
        request_id = current_request_id()
        if request_id:
            headers.append((b"x-request-id", request_id.encode()))
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", client[0].encode()))
        body = await self._body(scope, receive)
        replicas = self.replicas[service]
        order = replicas.order()
        for n, base_url in enumerate(order):
            request = self._request(scope, base_url, target, query, headers, body)
            started = time.perf_counter()
            try:
                response = await self.transports[base_url].handle_async_request(request)
            except httpx.TransportError as exc:
                observe_upstream("gateway", service, outcome_of(exc), time.perf_counter() - started)
                # Refused: nothing was sent, so the next replica may take it (a streamed
                # body cannot be sent twice). Anything else may have been done: no retry.
                if isinstance(exc, httpx.ConnectError):
                    replicas.down(base_url)
                    if n + 1 < len(order) and isinstance(body, bytes):
                        continue
                    raise upstream_error(service, exc) from exc
                if isinstance(exc, httpx.TimeoutException):
                    raise upstream_error(service, exc) from exc
                if replicas.was_draining(base_url):
                    # It said it is stopping and finishes all it took in: this was not.
                    raise upstream_error(service, None) from exc
                log.warning("bad reply from %s: %r", service, exc)
                raise upstream_error(service, exc) from exc
            break
        observe_upstream(
            "gateway", service, status_outcome(response.status_code), time.perf_counter() - started
        )
        if DRAINING_HEADER in response.headers:  # as the service clients read it
            replicas.draining(base_url)
        await self._relay(send, service, response, limit)

    def _request(
        self,
        scope: Scope,
        base_url: str,
        target: Target,
        query: bytes,
        headers: Headers,
        body: bytes | AsyncIterator[bytes],
    ) -> httpx.Request:
        # The path goes on as the client encoded it (re-encoding the decoded path would turn
        # `%2F` into `/` and fail on control characters); `target_of` has made sure that the
        # service decodes it to exactly the path whose operation was checked.
        url = base_url + target.raw_path
        url += "?" + query.decode("latin-1") if query else ""
        try:
            target_url = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise NotFound(f"There is no API at {scope['path']!r}.") from exc
        if target_url.path != self.base_paths[base_url] + target.path:
            # Never reached: a URL library that rewrote the path would send the request
            # to a route the gateway has not checked.
            raise NotFound(f"There is no API at {scope['path']!r}.")
        return httpx.Request(
            scope["method"],
            target_url,
            headers=headers,
            content=body,
            extensions={"timeout": self.timeout},
        )

    @staticmethod
    async def _relay(send: Send, service: str, response: httpx.Response, limit: Headers) -> None:
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k.lower(), v)
                        for k, v in response.headers.raw
                        if k.lower() not in REPLY_DROPPED
                    ]
                    + limit,
                }
            )
            async for chunk in stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except httpx.TransportError:
            log.warning("reply from %s broke off while streaming", service)
        finally:
            await stream.aclose()

    @staticmethod
    async def _body(scope: Scope, receive: Receive) -> bytes | AsyncIterator[bytes]:
        length = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        if length is None and not chunked:
            return b""
        if length is not None and int(length) <= BUFFER_LIMIT:
            parts: list[bytes] = []
            more = True
            while more:
                message: dict[str, Any] = dict(await receive())
                parts.append(message.get("body", b""))
                more = message.get("more_body", False)
            return b"".join(parts)

        async def stream() -> AsyncIterator[bytes]:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    # Abort the upstream request: a cut-off body must never arrive whole.
                    raise ClientGone
                yield message.get("body", b"")
                more = message.get("more_body", False)

        return stream()
