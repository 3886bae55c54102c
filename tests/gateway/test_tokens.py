"""Every bad token is a 401 problem at the gateway and at the service itself; unknown
roles and service tokens from outside are refused; the route's roles are enforced."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import jwt
import pytest

from tests.gateway.world import Platform, assert_problem
from tests.helpers import TEST_SECRET


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "org": "brand-1",
        "role": "partner",
        "iss": "betterwork-dev",
        "aud": "betterwork-api",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], key: str = TEST_SECRET, alg: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=alg)


def _alg_none(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


BAD_AUTHORIZATION = {
    "no header": None,
    "empty bearer": "Bearer",
    "basic scheme": "Basic dXNlcjpwYXNz",
    "not a jwt": "Bearer not-a-token",
    "garbage segments": "Bearer aaa.bbb.ccc",
    "alg none": "Bearer " + _alg_none(_claims()),
    "wrong key": "Bearer " + _sign(_claims(), key="another-secret-of-sufficient-length-0000"),
    "expired": "Bearer " + _sign(_claims(exp=int(time.time()) - 3600)),
    "wrong issuer": "Bearer " + _sign(_claims(iss="someone-else")),
    "wrong audience": "Bearer " + _sign(_claims(aud="another-api")),
    "no exp": "Bearer " + _sign(_claims(exp=None)),
    "no sub": "Bearer " + _sign(_claims(sub=None)),
    "no org": "Bearer " + _sign(_claims(org=None)),
    "no role": "Bearer " + _sign(_claims(role=None)),
    "empty org": "Bearer " + _sign(_claims(org="")),
    "HS512 not allowed": "Bearer " + _sign(_claims(), alg="HS512"),
    "countries not a list": "Bearer " + _sign(_claims(countries="BD")),
}


@pytest.mark.parametrize("case", BAD_AUTHORIZATION)
@pytest.mark.parametrize("direct", [False, True], ids=["gateway", "service"])
async def test_bad_tokens_are_401(platform: Platform, case: str, direct: bool) -> None:
    header = BAD_AUTHORIZATION[case]
    path = "/things/x" if direct else "/v1/billing/things/x"
    async with platform.client(direct=direct) as client:
        headers = {"Authorization": header} if header else {}
        reply = await client.get(path, headers=headers)
    assert_problem(reply, 401)
    assert reply.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("direct", [False, True], ids=["gateway", "service"])
async def test_unknown_role_is_refused(platform: Platform, direct: bool) -> None:
    path = "/things/x" if direct else "/v1/billing/things/x"
    async with platform.client(direct=direct) as client:
        reply = await client.get(
            path, headers={"Authorization": "Bearer " + _sign(_claims(role="admin"))}
        )
    assert_problem(reply, 403, detail_contains="not known")


async def test_service_tokens_are_refused_from_outside(platform: Platform) -> None:
    async with platform.client("service") as client:
        reply = await client.get("/v1/billing/things/x")
    assert reply.status_code in (401, 403)
    assert_problem(reply, reply.status_code)


async def test_service_tokens_do_not_open_public_routes_on_the_service(platform: Platform) -> None:
    async with platform.client("service", direct=True) as client:
        reply = await client.get("/things/x")
    assert reply.status_code in (401, 403)


async def test_internal_routes_are_never_routed(platform: Platform) -> None:
    async with platform.client("service") as client:
        reply = await client.get("/v1/billing/internal/whoami")
    assert_problem(reply, 404)


async def test_internal_routes_take_service_tokens_only(platform: Platform) -> None:
    async with platform.client("service", direct=True) as client:
        assert (await client.get("/internal/whoami")).json() == {"caller": "service:tests"}
    async with platform.client("advisor", direct=True) as client:
        assert (await client.get("/internal/whoami")).status_code == 401


@pytest.mark.parametrize("role", ["participant", "factory", "advisor"])
@pytest.mark.parametrize("direct", [False, True], ids=["gateway", "service"])
async def test_role_gate(platform: Platform, role: str, direct: bool) -> None:
    path = "/things/x" if direct else "/v1/billing/things/x"
    async with platform.client(role, direct=direct) as client:
        reply = await client.get(path)
    assert_problem(reply, 403, detail_contains="partner")


async def test_allowed_role_passes_with_its_org(platform: Platform) -> None:
    async with platform.client("partner", "brand-9") as client:
        reply = await client.get("/v1/billing/things/abc")
    assert reply.status_code == 200
    assert reply.json() == {"id": "abc", "org": "brand-9"}


async def test_public_routes_need_no_token(platform: Platform) -> None:
    async with platform.client() as client:
        reply = await client.get("/v1/billing/public/ping")
    assert reply.status_code == 200
    assert reply.json()["ping"] == "pong"
