"""Cursors (shared/pagination.py): signed by the list that issued them, checked against its
declared sort key, and every fault one 400 naming `cursor`."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from shared.errors import BadRequest
from shared.pagination import (
    MAX_CURSOR_LENGTH,
    ROW_OFFSET,
    BadCursor,
    CursorSigner,
    PageParams,
    SortKey,
    page_list,
)
from shared.settings import DEV_JWT_SECRET, Settings

SCOPE = "billing /invoices"
ID = SortKey(type=str)
NUMBER = SortKey(type=int, minimum=1, maximum=1000)


def signer(key: bytes = b"k" * 32) -> CursorSigner:
    return CursorSigner(key)


def page(cursor: str | None, *, limit: int = 2, scope: str = SCOPE) -> PageParams:
    s = signer()
    after = None if cursor is None else s.open(scope, cursor)
    return PageParams(limit=limit, after=after, signer=s, scope=scope)


def refused(cursor: str, scope: str = SCOPE, key: bytes = b"k" * 32) -> BadCursor:
    with pytest.raises(BadCursor) as caught:
        signer(key).open(scope, cursor)
    return caught.value


class TestSigner:
    def test_round_trip_is_opaque_and_url_safe(self) -> None:
        cursor = signer().sign(SCOPE, ["inv_01JD3ZQ8V5N1W2X3Y4Z5A6B7C8", 7, "Việt Tiến"])
        assert set(cursor) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
        assert signer().open(SCOPE, cursor) == ["inv_01JD3ZQ8V5N1W2X3Y4Z5A6B7C8", 7, "Việt Tiến"]

    def test_another_list_another_key_or_a_changed_byte_is_refused(self) -> None:
        cursor = signer().sign(SCOPE, ["inv_1"])
        refused(cursor, scope="billing /credits")
        refused(cursor, scope="reports /invoices")
        refused(cursor, key=b"rotated" * 5)
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        for index in (0, len(raw) - 1):
            changed = bytearray(raw)
            changed[index] ^= 1
            refused(base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("="))

    @pytest.mark.parametrize(
        "cursor",
        ["", "!!", "%%%", "a b", "A" * (MAX_CURSOR_LENGTH + 1), "AAAA", "A", "WzEyM10"],
    )
    def test_anything_not_issued_is_a_bad_request(self, cursor: str) -> None:
        error = refused(cursor)
        assert isinstance(error, BadRequest) and error.status == 400
        assert "`cursor`" in error.detail
        assert [e["field"] for e in error.extra["errors"]] == ["cursor"]


class TestStart:
    def test_first_page_has_no_start(self) -> None:
        assert page(None).start([ID]) is None

    @pytest.mark.parametrize(
        ("values", "key"),
        [
            (["inv_1"], [ID]),
            ([1], [NUMBER]),
            ([1000], [NUMBER]),
            ([0], [ROW_OFFSET]),
            ([2**31 - 1], [ROW_OFFSET]),
            (["2025-01-01", "vis_1"], [ID, ID]),
        ],
    )
    def test_values_that_fit_the_key(self, values: list[Any], key: list[SortKey]) -> None:
        cursor = signer().sign(SCOPE, values)
        assert page(cursor).start(key) == tuple(values)

    @pytest.mark.parametrize(
        ("values", "key"),
        [
            ([123], [ID]),
            ([True], [NUMBER]),
            ([True], [ID]),
            ([1.5], [NUMBER]),
            ([1e25], [ROW_OFFSET]),
            ([10**25], [ROW_OFFSET]),
            ([2**31], [ROW_OFFSET]),
            ([-1], [ROW_OFFSET]),
            ([0], [NUMBER]),
            ([1001], [NUMBER]),
            (["1"], [NUMBER]),
            ([{"a": 1}], [ID]),
            ([None], [ID]),
            (["x" * 257], [ID]),
            ([], [ID]),
            (["a", "b"], [ID]),
        ],
    )
    def test_values_that_do_not_fit_are_refused_even_when_signed(
        self, values: list[Any], key: list[SortKey]
    ) -> None:
        cursor = signer().sign(SCOPE, values)
        with pytest.raises(BadCursor):
            page(cursor).start(key)

    def test_issuing_a_cursor_the_key_would_refuse_is_a_bug(self) -> None:
        with pytest.raises(TypeError):
            page(None).cursor_for([1.5], [NUMBER])
        with pytest.raises(TypeError):
            page(None).cursor_for(["a", "b"], [ID])


def test_page_list_walks_every_item_once() -> None:
    items = [5, 3, 9, 1, 7]
    seen: list[int] = []
    cursor = None
    while True:
        chosen, cursor = page_list(
            items, page(cursor), key=[NUMBER], value=lambda number: (number,)
        )
        seen += chosen
        if cursor is None:
            break
    assert seen == [1, 3, 5, 7, 9]


class TestKey:
    def test_derived_from_the_service_secret_unless_set(self) -> None:
        base = Settings(BW_JWT_SECRET="j" * 40)
        assert base.cursor_key not in (b"j" * 40, Settings(BW_JWT_SECRET="x" * 40).cursor_key)
        service = Settings(BW_JWT_SECRET="j" * 40, BW_SERVICE_TOKEN_SECRET="s" * 40)
        assert service.cursor_key != base.cursor_key
        own = Settings(BW_JWT_SECRET="j" * 40, BW_CURSOR_SECRET="c" * 40)
        assert own.cursor_key not in (base.cursor_key, b"c" * 40)

    def test_production_refuses_the_development_secret(self) -> None:
        with pytest.raises(ValueError, match="BW_CURSOR_SECRET"):
            Settings(
                BW_ENV="production",
                BW_JWT_SECRET="a-real-secret-" * 3,
                BW_SERVICE_TOKEN_SECRET="other-" * 8,
                BW_CURSOR_SECRET=DEV_JWT_SECRET,
            )
        unset = Settings(
            BW_ENV="production",
            BW_JWT_SECRET="a-real-secret-" * 3,
            BW_SERVICE_TOKEN_SECRET="other-" * 8,
        )
        assert unset.cursor_secret is None and unset.cursor_key
