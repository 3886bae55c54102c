"""The gateway decides on the path it forwards, byte for byte: dot segments and encoded
separators are refused before any matching (so no two layers can disagree about which
route a path names), a path that matches no public operation is a 404 at the gateway, and
nothing unmatched ever reaches a service. Sent over a raw socket: httpx would normalise."""

from __future__ import annotations

import uuid

import pytest

from tests.gateway import probe
from tests.gateway.rawhttp import RawReply, send_raw
from tests.gateway.world import Platform


async def _send(
    platform: Platform, method: str, target: str, role: str | None = "partner"
) -> tuple[RawReply, str]:
    request_id = uuid.uuid4().hex
    headers = {"X-Request-ID": request_id}
    if role:
        headers["Authorization"] = f"Bearer {platform.token(role)}"
    return await send_raw(platform.gateway_url, method, target, headers=headers), request_id


def _forwarded(request_id: str) -> list[str]:
    return [arrival.path for arrival in probe.ARRIVALS if arrival.request_id == request_id]


def _assert_problem(reply: RawReply, status: int) -> dict[str, object]:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = reply.json()
    assert body["status"] == status and isinstance(body["detail"], str)
    return body


UNROUTABLE = {
    "dot": "/v1/billing/./internal/whoami",
    "dot-dot": "/v1/billing/x/../internal/whoami",
    "encoded dot-dot": "/v1/billing/x/%2e%2e/internal/whoami",
    "encoded dot-dot, upper case": "/v1/billing/x/%2E%2E/internal/whoami",
    "half-encoded dot-dot": "/v1/billing/x/.%2e/internal/whoami",
    "encoded dot": "/v1/billing/%2e/internal/whoami",
    "dot-dot then encoded slash": "/v1/billing/x/..%2finternal/whoami",
    "encoded slashes around dot-dot": "/v1/billing/x%2F..%2Finternal/whoami",
    "encoded backslash": "/v1/billing/x/..%5cinternal/whoami",
    "backslash": "/v1/billing/x/..\\internal/whoami",
    "empty segment": "/v1/billing//internal/whoami",
    "trailing dot-dot": "/v1/billing/things/a/..",
    "encoded slash in an id": "/v1/billing/things/a%2Fb",
    "dot-dot into a role-gated route": "/v1/billing/x/../things/a",
    "encoded service name": "/v1/b%69lling/things/a",
    "encoded slash after the version": "/v1%2Fbilling/things/a",
}


@pytest.mark.parametrize("target", UNROUTABLE.values(), ids=UNROUTABLE.keys())
@pytest.mark.parametrize("role", ["partner", "participant", "service", None])
async def test_dot_segments_and_encoded_separators_are_refused(
    platform: Platform, target: str, role: str | None
) -> None:
    reply, request_id = await _send(platform, "GET", target, role)
    _assert_problem(reply, 404)
    assert _forwarded(request_id) == []


async def test_post_to_an_internal_route_through_a_dot_segment_is_refused(
    platform: Platform,
) -> None:
    reply, request_id = await _send(platform, "POST", "/v1/billing/./internal/whoami")
    _assert_problem(reply, 404)
    assert _forwarded(request_id) == []


async def test_role_gate_cannot_be_skipped_by_a_detour(platform: Platform) -> None:
    # Without the detour the gateway refuses the participant itself (role gate: 403).
    straight, _ = await _send(platform, "GET", "/v1/billing/things/a", "participant")
    assert _assert_problem(straight, 403)
    detour, request_id = await _send(platform, "GET", "/v1/billing/x/../things/a", "participant")
    _assert_problem(detour, 404)
    assert _forwarded(request_id) == []


async def test_unmatched_routes_are_404_at_the_gateway(platform: Platform) -> None:
    reply, request_id = await _send(platform, "GET", "/v1/billing/no-such-thing")
    assert "no-such-thing" in str(_assert_problem(reply, 404)["detail"])
    assert _forwarded(request_id) == []


async def test_wrong_method_is_405_at_the_gateway(platform: Platform) -> None:
    reply, request_id = await _send(platform, "DELETE", "/v1/billing/things/a")
    _assert_problem(reply, 405)
    assert reply.headers["allow"] == "GET"
    assert _forwarded(request_id) == []


ROUTABLE = {
    "dots inside a segment": ("/v1/billing/things/..a", "/things/..a"),
    "three dots": ("/v1/billing/things/...", "/things/..."),
    "encoded dots inside a segment": ("/v1/billing/things/%2e%2e%2ea", "/things/...a"),
    "encoded letter": ("/v1/billing/thing%73/a", "/things/a"),
    "utf-8": ("/v1/billing/things/caf%C3%A9", "/things/café"),
}


@pytest.mark.parametrize(("target", "seen"), ROUTABLE.values(), ids=ROUTABLE.keys())
async def test_the_service_routes_the_path_the_gateway_matched(
    platform: Platform, target: str, seen: str
) -> None:
    reply, request_id = await _send(platform, "GET", target)
    assert reply.status == 200, reply.body
    assert _forwarded(request_id) == [seen]
    assert reply.json()["id"] == seen.rsplit("/", 1)[1]


async def test_encoded_letters_do_not_skip_the_role_gate(platform: Platform) -> None:
    reply, request_id = await _send(platform, "GET", "/v1/billing/thing%73/a", "participant")
    _assert_problem(reply, 403)
    assert _forwarded(request_id) == []
