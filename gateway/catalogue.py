"""What the gateway knows of the services, read from their own OpenAPI documents.

One source of truth: a route's allowed roles (`x-roles`) and whether it needs a token at
all (`security`) are declared once, in the service, and the gateway enforces them from
there. The documents are fetched lazily and refreshed every `ttl_s`; when a service does
not answer, the last good copy is kept.

Only what the catalogue knows is routed: a path that matches no public operation is a 404
(a known path with another method a 405) at the gateway, so nothing reaches a service
without the role check of the operation it will run. A miss refetches the document (at
most every `miss_refresh_s`), so a route a service has just deployed is not refused for a
whole TTL.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.upstream import upstream_error
from shared.errors import ApiError, NotFound
from shared.settings import SERVICES, Settings

__all__ = ["Catalogue", "MethodNotAllowed", "Operation"]

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    pattern: re.Pattern[str]
    public: bool
    roles: tuple[str, ...] | None
    template: str = ""  # the service's path template: the metrics' route label


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
                    template=template,
                )
            )
    # Literal segments before parameters: /factories/search must win over /factories/{id}.
    found.sort(key=lambda op: op.pattern.pattern.count("[^/]+"))
    return found


class MethodNotAllowed(ApiError):
    status = 405


class Catalogue:
    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        ttl_s: float = 60.0,
        retry_s: float = 2.0,
        miss_refresh_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self.http = http
        self.ttl_s = ttl_s
        self.retry_s = retry_s
        self.miss_refresh_s = miss_refresh_s
        self.documents: dict[str, dict[str, Any]] = {}
        self._operations: dict[str, list[Operation]] = {}
        self._fetched_at: dict[str, float] = {}  # last successful fetch
        self._tried_at: dict[str, float] = {}  # last attempt, successful or not
        self._errors: dict[str, Exception] = {}  # why the last attempt failed
        self._locks = {service: asyncio.Lock() for service in SERVICES}

    def _due(self, service: str) -> bool:
        now = time.monotonic()
        stale = now - self._fetched_at.get(service, -1e9) > self.ttl_s
        return stale and now - self._tried_at.get(service, -1e9) > self.retry_s

    async def document(self, service: str) -> dict[str, Any] | None:
        if self._due(service):
            async with self._locks[service]:
                if self._due(service):
                    await self._fetch(service)
        return self.documents.get(service)

    async def _fetch(self, service: str) -> None:
        self._tried_at[service] = time.monotonic()
        for url in self.settings.service_urls(service):  # every replica serves the same one
            try:
                reply = await self.http.get(f"{url}/openapi.json", timeout=5.0)
                reply.raise_for_status()
                document = reply.json()
                break
            except (httpx.HTTPError, ValueError) as exc:
                self._errors[service] = exc
        else:
            # Retried after `retry_s`, not a whole TTL; the last good copy is kept meanwhile.
            return
        self.documents[service] = document
        self._operations[service] = _operations(document)
        self._fetched_at[service] = time.monotonic()
        self._errors.pop(service, None)

    async def _refresh_after_miss(self, service: str) -> None:
        if time.monotonic() - self._tried_at.get(service, -1e9) <= self.miss_refresh_s:
            return
        async with self._locks[service]:
            if time.monotonic() - self._tried_at.get(service, -1e9) > self.miss_refresh_s:
                await self._fetch(service)

    def _match(self, service: str, method: str, path: str) -> Operation | list[Operation]:
        """The operation for `method` and `path`, else the operations of the path (if any)."""
        others = []
        for operation in self._operations.get(service, ()):
            if operation.pattern.match(path):
                if operation.method == method:
                    return operation
                others.append(operation)
        return others

    async def resolve(self, service: str, method: str, path: str) -> Operation:
        """The public operation a request names: 404/405 if none, 502/503/504 if the
        service's document has never been read (then nothing can be routed safely)."""
        await self.document(service)
        found = self._match(service, method, path)
        if not isinstance(found, Operation) and service in self._operations:
            await self._refresh_after_miss(service)
            found = self._match(service, method, path)
        if isinstance(found, Operation):
            return found
        if service not in self._operations:
            raise upstream_error(service, self._errors.get(service))
        if found:
            allowed = ", ".join(sorted({operation.method for operation in found}))
            raise MethodNotAllowed(
                f"{method} is not allowed on /v1/{service}{path}; use {allowed}.",
                headers={"Allow": allowed},
            )
        raise NotFound(
            f"There is no API at /v1/{service}{path}; GET /openapi.json lists every route."
        )
