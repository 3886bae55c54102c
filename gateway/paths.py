"""Which request paths the gateway routes, decided once, on the bytes the client sent.

The gateway matches a route (and so its roles) on one reading of the path and the service
routes on another reading of the bytes it is sent; the two must never differ. A dot
segment (`.`, `..`, in any mix of literal and `%2e`) or a separator hidden in a segment
(`%2F`, `%5C`, a literal `\\`) is read differently by different layers: RFC 3986 clients
and httpx remove dot segments, Starlette does not, some servers treat `\\` as `/`. So the
gateway refuses them outright (404, nothing forwarded) rather than normalising: a
refusal is the same under every reading, and no honest client sends them (RFC 3986
§5.2.4 has clients remove dot segments before sending). Empty segments (`//`) are refused
with them, as some servers collapse them.

What is left has one reading: the segments of the raw path, each percent-decoded once,
exactly as the service's ASGI server will decode them. That decoded path is what the
gateway matches, and the raw bytes of it are what it forwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_to_bytes

from starlette.types import Scope

from shared.errors import NotFound
from shared.settings import SERVICES

__all__ = ["Target", "target_of"]

_DOT_SEGMENTS = frozenset({b".", b".."})
_SEPARATORS = (b"/", b"\\")
# Characters a path may carry unencoded (RFC 3986 pchar), for servers without `raw_path`.
_PCHAR = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True, slots=True)
class Target:
    service: str
    path: str  # percent-decoded, as the service will route it: what the gateway matches
    raw_path: str  # as the client encoded it: what the gateway forwards


def _refuse(scope: Scope, why: str) -> NotFound:
    return NotFound(f"There is no API at {scope['path']!r}: {why}.")


def target_of(scope: Scope) -> Target:
    """The service and the path a `/v1/<service>/...` request is for, or a 404."""
    raw = scope.get("raw_path")
    text = bytes(raw).decode("latin-1") if raw else quote(scope["path"], safe=_PCHAR)
    if not text.isascii() or not text.isprintable():
        raise _refuse(scope, "a path must be ASCII, with anything else percent-encoded")
    segments = text.split("/")
    # ["", "v1", "<service>", ...]: the prefix must be written plainly.
    if len(segments) < 3 or segments[1] != "v1" or segments[2] not in SERVICES:
        if unquote(segments[2] if len(segments) > 2 else "") in SERVICES:
            raise _refuse(scope, "write /v1/<service>/ without percent-encoding")
        raise _refuse(scope, f"the services are {', '.join(SERVICES)}")
    rest = segments[3:]
    for segment in rest:
        decoded = unquote_to_bytes(segment)
        if decoded in _DOT_SEGMENTS:
            raise _refuse(scope, "paths with '.' or '..' segments are not routed")
        if not decoded:
            raise _refuse(scope, "paths with empty segments ('//', a trailing '/') are not routed")
        if any(separator in decoded for separator in _SEPARATORS):
            raise _refuse(scope, "a path segment may not contain '/' or '\\', encoded or not")
    raw_path = "/" + "/".join(rest)
    path = unquote(raw_path)  # what uvicorn hands the service as scope["path"]
    if path.startswith("/internal"):
        raise _refuse(scope, "internal routes are for services only")
    return Target(service=segments[2], path=path, raw_path=raw_path)
