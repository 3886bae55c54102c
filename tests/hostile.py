"""Input no client should send, shared by the hostile-input tests of every service and by
the contract run: forged cursors and NUL bytes (issue 9, defects 3 and 4)."""

from __future__ import annotations

import base64
from typing import Any

import httpx

__all__ = ["FORGED_CURSORS", "assert_cursor_refused", "b64url", "problem"]


def b64url(raw: str) -> str:
    """What a client crafting a cursor sends: base64url without padding, as ours look."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Each once made a service answer 500 (wrong type for the sort key, NUL in a query,
# an integer past any column's range), or was taken as a real position in the list.
FORGED_CURSORS: dict[str, str] = {
    "int": b64url("[123]"),
    "bool": b64url("[true]"),
    "float": b64url("[1.5]"),
    "object": b64url('[{"a":1}]'),
    "nul": b64url('["\\u0000"]'),
    "huge-float": b64url("[1e25]"),
    "huge-int": b64url(f"[{10**25}]"),
    "negative": b64url("[-1]"),
    "empty-list": b64url("[]"),
    "two-keys": b64url('["a","b"]'),
    "not-a-list": b64url('"inv_01JD3ZQ8V5N1W2X3Y4Z5A6B7C8"'),
    "well-typed-but-unsigned": b64url('["zzzz"]'),
    "not-base64": "!!",
    "not-json": b64url("{"),
    "too-long": "A" * 5000,
}


def problem(reply: httpx.Response, status: int) -> dict[str, Any]:
    """The reply is a problem+json of `status`; returns its body."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json"), reply.headers
    body: dict[str, Any] = reply.json()
    assert body["status"] == status and body["detail"]
    return body


def assert_cursor_refused(reply: httpx.Response) -> None:
    """A 400 problem that names the `cursor` parameter (detail and errors[].field)."""
    body = problem(reply, 400)
    assert "cursor" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["cursor"], body
