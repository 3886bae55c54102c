"""An httpx transport that sends through aiohttp's connection pool: the wire under the
gateway's proxy and under every service-to-service client (`shared.http`).

The gateway forwards every call, so its client's cost is added to every request (and a
service's calls to another, e.g. an unlock's charge in billing, likewise). httpcore's
pool checks each pooled socket on every request and goes through anyio; under 16
concurrent streams that cost the gateway over 1 ms per call on this machine, while aiohttp's
pool (C-accelerated parser, asyncio-native) costs a fraction. The proxy keeps httpx's API (so
tests mount in-process apps exactly as elsewhere); only the wire underneath changes.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator

import aiohttp
import httpx
import yarl

from shared import tracing

__all__ = ["AiohttpTransport"]

CHUNK = 64 * 1024


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK):
                yield chunk
        except aiohttp.ClientPayloadError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc)) from exc

    async def aclose(self) -> None:
        self._response.release()


# An idle kept-alive connection is dropped here before the server drops it: uvicorn closes
# one after 5 s idle (its default `--timeout-keep-alive`), and a request sent on a
# connection the server is closing that moment breaks off (a 502; a streamed body cannot
# be sent again).
KEEPALIVE_S = 4.0


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int = 500, keepalive_s: float = KEEPALIVE_S) -> None:
        self._limit = max_connections
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limit, keepalive_timeout=self._keepalive_s, enable_cleanup_closed=True
            )
            # No cookie jar and no automatic decompression: a proxy passes bytes through.
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # aiohttp frames the body itself (length or chunked), so not our framing header.
        headers = [(k, v) for k, v in request.headers.multi_items() if k != "transfer-encoding"]
        if not tracing.ENABLED:
            return await self._send(request, headers)
        with tracing.client_span(request.method, str(request.url), headers) as span:
            response = await self._send(request, headers)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    async def _send(self, request: httpx.Request, headers: list[tuple[str, str]]) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        body: bytes | AsyncIterator[bytes]
        if isinstance(request.stream, httpx.ByteStream):
            body = request.content  # httpx has already read byte content
        else:
            body = request.stream.__aiter__()  # type: ignore[union-attr]
        try:
            response = await self._client().request(
                request.method,
                yarl.URL(str(request.url), encoded=True),  # httpx has encoded it already
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=timeout,
                # A connection to a pinned address still verifies TLS for the name (webhooks).
                server_hostname=request.extensions.get("sni_hostname"),
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
            )
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientOSError as exc:
            if exc.errno != errno.ECONNRESET:
                raise httpx.TransportError(str(exc), request=request) from exc
            # Reset before any reply: the service's kernel dropped a connection its server
            # never accepted (its listener closed during a shutdown) or never read from; a
            # request it read whole ends in a FIN, not a reset. So: as good as refused.
            raise httpx.ConnectError(f"reset before any reply: {exc}", request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientResponseError,
        ) as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(str(exc), request=request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
