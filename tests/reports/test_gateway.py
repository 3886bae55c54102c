"""The reports service through the gateway: tokens, roles, the public portal without one."""

from __future__ import annotations

from tests.helpers import ok
from tests.inprocess import Api
from tests.reports.world import World


async def test_read_a_released_report_through_the_gateway(world: World, gateway_api: Api) -> None:
    _, report = await world.readable_factory("participant", "buyer-1")
    buyer = gateway_api.client("gateway", role="participant", org="buyer-1")
    reply = await buyer.get(f"/v1/reports/reports/{report['id']}")
    assert ok(reply)["id"] == report["id"]
    assert reply.headers["x-request-id"]
    stranger = gateway_api.client("gateway", role="participant", org="stranger")
    reply = await stranger.get(f"/v1/reports/reports/{report['id']}")
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


async def test_public_portal_needs_no_token(world: World, gateway_api: Api) -> None:
    factory_id, _ = await world.readable_factory("partner", "brand-1")
    anonymous = gateway_api.client("gateway")
    page = ok(await anonymous.get(f"/v1/reports/public/factories/{factory_id}"))
    assert page["factory_id"] == factory_id
    assert (await anonymous.get("/v1/reports/unlocks")).status_code == 401


async def test_internal_paths_are_not_routed(gateway_api: Api) -> None:
    advisor = gateway_api.client("gateway", role="advisor", org="bw")
    assert (await advisor.get("/v1/reports/internal/access?org=a&factory_id=b")).status_code == 404


async def test_roles_are_enforced_through_the_gateway(gateway_api: Api) -> None:
    factory = gateway_api.client("gateway", role="factory", org="fac-1")
    reply = await factory.post("/v1/reports/unlocks", json={"factory_id": "x", "cycle": 1})
    assert reply.status_code == 403
