"""One HTTP/1.1 exchange over a plain socket, with the request target sent byte for byte.

httpx (like curl without `--path-as-is`) removes `.` and `..` segments before sending, so
it cannot show what the gateway does with them; an attacker's client would not be so kind.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11

__all__ = ["RawReply", "send_raw"]


@dataclass(frozen=True)
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def send_raw(
    base_url: str,
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> RawReply:
    """Send `target` exactly as written (no normalisation, no re-encoding)."""
    url = urlsplit(base_url)
    assert url.hostname and url.port
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {url.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    connection = h11.Connection(h11.CLIENT)
    # h11 must believe it sent the request to parse the reply; the bytes above are ours.
    connection.send(h11.Request(method=method, target="/", headers=[("Host", url.netloc)]))
    connection.send(h11.EndOfMessage())
    status, reply_headers, parts = 0, {}, []
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await asyncio.wait_for(reader.read(65536), 30))
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                reply_headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                parts.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
    finally:
        writer.close()
    return RawReply(status, reply_headers, b"".join(parts))
