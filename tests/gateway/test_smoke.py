from tests.inprocess import Api


async def test_health_through_gateway(gateway_api: Api) -> None:
    client = gateway_api.client("gateway")
    reply = await client.get("/healthz")
    assert reply.status_code == 200
    reply = await client.get("/readyz")
    assert reply.status_code == 200, reply.text
    reply = await client.get("/openapi.json")
    assert reply.status_code == 200
    reply = await client.get("/v1/billing/healthz")
    assert reply.status_code == 200, reply.text
