"""Cursor pagination: `?limit=` (1..500, default 50) and `?cursor=`; replies `{items, next_cursor}`.

The cursor is an opaque token wrapping the sort key of the last item returned (our ids
sort by creation time, so usually just the id). Keyset, not offset: pages stay stable
while rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.errors import Unprocessable

__all__ = ["Page", "PageDep", "PageParams", "decode_cursor", "encode_cursor", "paginate"]

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(
            "The cursor is not valid; pass back the next_cursor of the previous page unchanged."
        ) from exc
    if not isinstance(value, list):
        raise Unprocessable("The cursor is not valid; pass back next_cursor unchanged.")
    return value


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    cursor: str | None


def _page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1..500).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="The `next_cursor` of the previous page."),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(_page_params)]


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    page: PageParams,
    *,
    key: Sequence[InstrumentedAttribute[Any]],
) -> tuple[list[Any], str | None]:
    """Run `statement` (selecting one entity) ordered by `key`, one page at a time."""
    if page.cursor is not None:
        after = decode_cursor(page.cursor)
        if len(after) != len(key):
            raise Unprocessable("The cursor does not belong to this list.")
        statement = statement.where(tuple_(*key) > tuple_(*after))
    statement = statement.order_by(*key).limit(page.limit + 1)
    rows = list((await session.scalars(statement)).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, column.key) for column in key])
    return rows, next_cursor
