"""Cursor pagination: `?limit=` (1..500, default 50) and `?cursor=`; replies `{items, next_cursor}`.

The cursor is an opaque token wrapping the sort key of the last item returned (our ids
sort by creation time, so usually just the id). Keyset, not offset: pages stay stable
while rows are added.

A cursor is signed (HMAC-SHA256 under `Settings.cursor_key`) together with the service and
route that issued it, so the only cursors a list takes are those it gave out: no crafted
value reaches a query, and no position a list did not issue can be asked for. Every list
declares the Python type of each component of its sort key (`sort_key(Invoice.id, str)`,
`ROW_OFFSET`), and a cursor is checked against it once more after its signature. Whatever
is wrong with a cursor (not base64, not signed by this service, another list's, too long,
not fitting the key) is one answer: 400 problem+json naming `cursor`.

This module is the only place that reads or writes a cursor: `paginate` for SQL lists,
`page_list` for short lists filtered in Python, `PageParams.start`/`cursor_for` for the
rare list that pages by hand (row offsets of a factory list).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, WithJsonSchema
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.errors import BadRequest, Unprocessable

__all__ = [
    "MAX_CURSOR_LENGTH",
    "ROW_OFFSET",
    "BadCursor",
    "CursorSigner",
    "Page",
    "PageDep",
    "PageParams",
    "SortKey",
    "UpdatedSince",
    "page_list",
    "page_params",
    "paginate",
    "sort_key",
]

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Room for the longest key, a 128-character id in any script (JSON keeps it as UTF-8,
# up to 4 bytes a character), and the tag, in base64.
MAX_CURSOR_LENGTH = 1024
MAX_INT = 2**31 - 1  # PostgreSQL `integer`: a larger value would overflow in the query
_TAG_BYTES = 16  # 128-bit HMAC tag: forging one is out of reach
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_ADVICE = (
    "The `cursor` is not one this list issued: pass back the `next_cursor` of the previous "
    "page unchanged, or leave `cursor` out to start from the first page."
)


# What a cursor looks like, documented but not enforced by FastAPI (that would be a 422):
# `CursorSigner.open` checks it, so that every cursor error is one 400.
CursorText = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "maxLength": MAX_CURSOR_LENGTH, "pattern": "^[A-Za-z0-9_-]+$"}
    ),
]


class BadCursor(BadRequest):
    """A cursor this list did not issue: 400, with the same `errors` shape as a 422."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            _ADVICE,
            errors=[
                {"loc": ["query", "cursor"], "field": "cursor", "msg": reason, "type": "cursor"}
            ],
        )


@dataclass(frozen=True, slots=True)
class SortKey:
    """One component of a list's sort key and the Python type its value has in a cursor.
    `column` is the keyset column of an SQL list (None for a list sorted in Python)."""

    type: type[str] | type[int]
    column: InstrumentedAttribute[Any] | None = None
    minimum: int = 0
    maximum: int = MAX_INT
    max_length: int = 256

    def fits(self, value: object) -> bool:
        if self.type is int:
            # bool is an int to Python, never to a sort key.
            return (
                isinstance(value, int)
                and not isinstance(value, bool)
                and self.minimum <= value <= self.maximum
            )
        return isinstance(value, str) and len(value) <= self.max_length


def sort_key(column: Any, type_: type[str] | type[int]) -> SortKey:
    """A model attribute as a keyset column of `type_` (`Any`: SQLModel types a class
    attribute as its Python value, though at runtime it is the column)."""
    return SortKey(type=type_, column=column)


# A row offset into a stored result (a factory list's rows): a non-negative `integer`.
ROW_OFFSET = SortKey(type=int)


class CursorSigner:
    """Makes and opens cursors: base64url(tag || JSON list of the key's values), the tag an
    HMAC of the issuing list's scope and the JSON."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _tag(self, scope: str, payload: bytes) -> bytes:
        message = scope.encode() + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_TAG_BYTES]

    def sign(self, scope: str, values: Sequence[object]) -> str:
        payload = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
        token = base64.urlsafe_b64encode(self._tag(scope, payload) + payload).decode()
        return token.rstrip("=")

    def open(self, scope: str, token: str) -> list[Any]:
        if len(token) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(token):
            raise BadCursor("not a cursor (base64url, at most 1024 characters)")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise BadCursor("not a cursor (base64url)") from exc
        tag, payload = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
        if len(tag) < _TAG_BYTES or not hmac.compare_digest(tag, self._tag(scope, payload)):
            raise BadCursor("not issued by this list")
        try:
            values = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:  # only with a leaked key
            raise BadCursor("not a cursor (JSON)") from exc
        if not isinstance(values, list):
            raise BadCursor("not a cursor (JSON list)")
        return values


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PageParams:
    """`limit`, and the opened cursor: its signature is checked on the way in (before the
    route looks anything up), its values against the list's key by `start`."""

    limit: int
    after: list[Any] | None
    signer: CursorSigner
    scope: str

    def start(self, key: Sequence[SortKey]) -> tuple[Any, ...] | None:
        """The sort key of the last item of the previous page; None on the first page."""
        if self.after is None:
            return None
        if len(self.after) != len(key) or not all(
            part.fits(value) for part, value in zip(key, self.after, strict=True)
        ):
            raise BadCursor("does not fit this list's sort key")
        return tuple(self.after)

    def cursor_for(self, values: Sequence[object], key: Sequence[SortKey]) -> str:
        """The cursor of the page after the item whose sort key is `values`."""
        if len(values) != len(key) or not all(
            part.fits(value) for part, value in zip(key, values, strict=True)
        ):
            # Our bug, not the client's: a cursor we could not open again.
            raise TypeError(f"sort key {values!r} does not fit {key!r}")
        return self.signer.sign(self.scope, values)


def _scope(request: Request) -> str:
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    return f"{request.app.state.service} {path}"


def page_params(
    *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT, noun: str = "Items"
) -> Callable[..., Awaitable[PageParams]]:
    """The dependency reading `limit` and `cursor` (a list with its own page sizes makes
    its own; most use `PageDep`)."""

    # Defaults rather than `Annotated`: the annotations of a closure are strings (this
    # module's `from __future__ import annotations`) that cannot see `maximum`.
    async def read(
        request: Request,
        limit: int = Query(
            default, ge=1, le=maximum, description=f"{noun} per page (1..{maximum:,})."
        ),
        cursor: CursorText | None = Query(
            None, description="The `next_cursor` of the previous page, unchanged."
        ),
    ) -> PageParams:
        signer: CursorSigner = request.app.state.cursors
        scope = _scope(request)
        after = None if cursor is None else signer.open(scope, cursor)
        return PageParams(limit=limit, after=after, signer=signer, scope=scope)

    return read


PageDep = Annotated[PageParams, Depends(page_params())]


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    page: PageParams,
    *,
    key: Sequence[SortKey],
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Run `statement` (selecting one entity) ordered by `key`, one page at a time."""
    columns: list[InstrumentedAttribute[Any]] = []
    for part in key:
        if not isinstance(part, SortKey) or part.column is None:
            raise TypeError("paginate needs SQL columns in its key: sort_key(Model.attr, type)")
        columns.append(part.column)
    after = page.start(key)
    if after is not None:
        position, previous = tuple_(*columns), tuple_(*after)
        statement = statement.where(position < previous if descending else position > previous)
    order = [column.desc() for column in columns] if descending else columns
    statement = statement.order_by(*order).limit(page.limit + 1)
    rows = list((await session.scalars(statement)).all())
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, page.cursor_for([getattr(rows[-1], column.key) for column in columns], key)


def page_list(
    items: Sequence[T],
    page: PageParams,
    *,
    key: Sequence[SortKey],
    value: Callable[[T], tuple[Any, ...]],
) -> tuple[list[T], str | None]:
    """Keyset pagination of a short list already in memory (filtered by an access rule
    that lives in Python rather than in SQL), sorted by `value`."""
    ordered = sorted(items, key=value)
    after = page.start(key)
    if after is not None:
        ordered = [item for item in ordered if value(item) > after]
    chosen = ordered[: page.limit]
    if len(ordered) <= page.limit:
        return chosen, None
    return chosen, page.cursor_for(value(chosen[-1]), key)


# RFC 3339 `date-time`: a full date and time with its offset (a bare number or a local time
# is refused: pydantic's own datetime would take "0.5" as a Unix timestamp).
RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"


async def _updated_since(
    updated_since: Annotated[
        str | None,
        Query(
            pattern=RFC3339,
            max_length=40,
            json_schema_extra={"format": "date-time"},
            description="RFC 3339 date-time with its offset (e.g. 2026-11-29T06:00:00Z): only "
            "rows changed at or after it, for a first full sync before the event feed "
            "(`/v1/integrations/events`) takes over.",
        ),
    ] = None,
) -> datetime | None:
    if updated_since is None:
        return None
    try:
        moment = datetime.fromisoformat(updated_since.upper())
        # Stored moments are UTC; an offset at the edge of the calendar cannot be one.
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise Unprocessable(
            f"updated_since {updated_since!r} is not a valid RFC 3339 date-time in range."
        ) from exc


UpdatedSince = Annotated[datetime | None, Depends(_updated_since)]
