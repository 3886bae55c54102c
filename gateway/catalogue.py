"""What the gateway knows of the services, read from their own OpenAPI documents.

One source of truth: a route's allowed roles (`x-roles`) and whether it needs a token at
all (`security`) are declared once, in the service, and the gateway enforces them from
there. The documents are fetched lazily and refreshed every `ttl_s`; when a service does
not answer, the last good copy is kept.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from shared.settings import SERVICES, Settings

__all__ = ["Catalogue", "Operation"]

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    pattern: re.Pattern[str]
    public: bool
    roles: tuple[str, ...] | None


def _compile(template: str) -> re.Pattern[str]:
    parts, last = [], 0
    for match in _PARAM.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        name = match.group(1)
        parts.append(".+" if name.endswith(":path") else "[^/]+")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("^" + "".join(parts) + "$")


def _operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for template, methods in document.get("paths", {}).items():
        if template.startswith("/internal"):
            continue
        pattern = _compile(template)
        for method, operation in methods.items():
            if method not in HTTP_METHODS:
                continue
            roles = operation.get("x-roles")
            found.append(
                Operation(
                    method=method.upper(),
                    pattern=pattern,
                    public=not operation.get("security"),
                    roles=tuple(roles) if roles is not None else None,
                )
            )
    # Literal segments before parameters: /factories/search must win over /factories/{id}.
    found.sort(key=lambda op: op.pattern.pattern.count("[^/]+"))
    return found


class Catalogue:
    def __init__(self, settings: Settings, http: httpx.AsyncClient, *, ttl_s: float = 60.0) -> None:
        self.settings = settings
        self.http = http
        self.ttl_s = ttl_s
        self.documents: dict[str, dict[str, Any]] = {}
        self._operations: dict[str, list[Operation]] = {}
        self._fetched_at: dict[str, float] = {}
        self._locks = {service: asyncio.Lock() for service in SERVICES}

    async def document(self, service: str) -> dict[str, Any] | None:
        if time.monotonic() - self._fetched_at.get(service, -1e9) > self.ttl_s:
            async with self._locks[service]:
                if time.monotonic() - self._fetched_at.get(service, -1e9) > self.ttl_s:
                    await self._fetch(service)
        return self.documents.get(service)

    async def _fetch(self, service: str) -> None:
        url = f"{self.settings.service_url(service)}/openapi.json"
        try:
            reply = await self.http.get(url, timeout=5.0)
            reply.raise_for_status()
            document = reply.json()
        except (httpx.HTTPError, ValueError):
            # Retry soon rather than after a whole TTL; keep the last good copy meanwhile.
            self._fetched_at[service] = time.monotonic() - self.ttl_s + 2.0
            return
        self.documents[service] = document
        self._operations[service] = _operations(document)
        self._fetched_at[service] = time.monotonic()

    async def operation(self, service: str, method: str, path: str) -> Operation | None:
        await self.document(service)
        for operation in self._operations.get(service, ()):
            if operation.method == method and operation.pattern.match(path):
                return operation
        return None
