"""`/metrics`: Prometheus exposition on each service and on the gateway's own port, route
templates (never ids) in the labels, and never reachable through the gateway's `/v1/`."""

from __future__ import annotations

import uuid

from prometheus_client.parser import text_string_to_metric_families

from tests.inprocess import Api


def _samples(text: str, name: str) -> list[dict[str, str]]:
    return [
        {**sample.labels, "value": str(sample.value)}
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


async def test_requests_are_counted_by_route_template_on_gateway_and_service(
    gateway_api: Api,
) -> None:
    invoice_id = f"inv-{uuid.uuid4().hex}"
    advisor = gateway_api.client("gateway", "advisor", "bw")
    reply = await advisor.get(f"/v1/billing/invoices/{invoice_id}")
    assert reply.status_code == 404

    gateway_text = (await gateway_api.client("gateway").get("/metrics")).text
    billing = await gateway_api.client("billing").get("/metrics")
    assert billing.status_code == 200
    assert billing.headers["content-type"].startswith("text/plain")
    assert invoice_id not in gateway_text + billing.text  # ids never become labels

    seen = _samples(gateway_text, "bw_http_request_duration_seconds_count")
    expected = {
        "service": "gateway",
        "method": "GET",
        "route": "/v1/billing/invoices/{invoice_id}",
        "status": "404",
    }.items()
    assert any(expected <= s.items() for s in seen), seen  # other tests add their own rows
    assert any(
        s["service"] == "billing"
        and s["route"] == "/invoices/{invoice_id}"
        and s["status"] == "404"
        for s in _samples(billing.text, "bw_http_request_duration_seconds_count")
    )
    assert any(
        s["caller"] == "gateway" and s["target"] == "billing" and s["outcome"] == "4xx"
        for s in _samples(gateway_text, "bw_upstream_calls_total")
    )
    assert _samples(billing.text, "bw_db_pool_checked_out")
    assert _samples(billing.text, "bw_http_request_duration_seconds_bucket")


async def test_metrics_are_not_routed_through_the_gateway(gateway_api: Api) -> None:
    client = gateway_api.client("gateway", "advisor", "bw")
    for service in ("eligibility", "billing", "reports", "cycles", "integrations"):
        reply = await client.get(f"/v1/{service}/metrics")
        assert reply.status_code == 404, (service, reply.text)
        direct = await gateway_api.client(service).get("/metrics")
        assert direct.status_code == 200
        assert "bw_http_request_duration_seconds_count" in direct.text
