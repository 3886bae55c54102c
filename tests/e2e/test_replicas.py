"""Checks that only mean something on two processes of every service and of the gateway
(issue 13, item 2): collected only in the replica-mode pass of `make test`
(`make replicas`: `BW_TEST_REPLICAS=2 pytest tests/e2e`), whose session stack has two of
everything on one PostgreSQL and one Redis, so they run on the same stack as the
walkthroughs, the concurrency rules and the unlock fault matrix of that pass.

- traffic reaches both processes of each component;
- the rate limit is one budget across the gateways (Redis): two more gateway processes
  here, with a small limit, in front of the same services;
- kill -9 of one process of each service and of one gateway leaves the platform answering,
  with nothing lost or done twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.settings import SERVICES
from shared.stack import Stack, free_port
from tests.e2e.world import REPLICAS, RunningStack
from tests.helpers import key, ok

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

BURST = 20
assert REPLICAS > 1, "tests/e2e/conftest.py collects this module in replica mode only"


@pytest.fixture(scope="module")
def limited_gateways(
    stack: RunningStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Two gateway processes in front of the stack's services, with a small rate limit."""
    env = {**stack.stack.env, "BW_RATE_LIMIT_PER_MINUTE": "6", "BW_RATE_LIMIT_BURST": str(BURST)}
    gateways = Stack(
        {"gateway": free_port(), "gateway-2": free_port()},
        env,
        log_dir=Path(tmp_path_factory.mktemp("limited-gateways")),
        via={service: ",".join(stack.stack.urls(service)) for service in SERVICES},
        replicas=2,
    )
    gateways.start(["gateway"])
    try:
        gateways.wait_healthy(["gateway"])
        yield gateways.urls("gateway")
    finally:
        gateways.stop()


def _requests_served(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "bw_http_request_duration_seconds_count"
        and not sample.labels.get("route", "").endswith(("/healthz", "/readyz", "/metrics"))
    )


def _enrolled_factory(advisor: httpx.Client) -> str:
    body = {"name": f"Twin Garments {uuid.uuid4().hex[:8]}", "address": "1 Road",
            "country": "BD", "region": "Gazipur", "products": ["garments"],
            "worker_count": 900}  # fmt: skip
    factory_id: str = ok(advisor.post("/v1/eligibility/factories", json=body), 201)["id"]
    enrol = {"status": "enrolled"}
    ok(advisor.post(f"/v1/eligibility/factories/{factory_id}/enrolment", json=enrol))
    return factory_id


def test_requests_reach_both_processes_of_every_component(stack: RunningStack) -> None:
    before = {i: _requests_served(stack.stack.url(i)) for i in stack.stack.processes}
    for n in range(8):  # each from its own organisation: the rate limit is not the subject
        with stack.client("advisor", f"bw-{n}") as advisor:
            factory_id = _enrolled_factory(advisor)
            ok(advisor.post(f"/v1/reports/factories/{factory_id}/cycles", json={"cycle": 1}), 201)
            ok(advisor.get(f"/v1/cycles/factories/{factory_id}/cycles"))
            ok(advisor.get("/v1/billing/price-books/2026"))
            ok(advisor.get("/v1/integrations/events"))
    served = {i: _requests_served(stack.stack.url(i)) - before[i] for i in stack.stack.processes}
    idle = [instance for instance, count in served.items() if count == 0]
    assert not idle, served


def test_the_rate_limit_is_one_budget_across_the_gateways(
    stack: RunningStack, limited_gateways: list[str]
) -> None:
    org = f"brand-{uuid.uuid4().hex[:8]}"
    gateways = limited_gateways
    token = {"Authorization": f"Bearer {stack.token('partner', org)}"}
    statuses = [
        httpx.get(f"{gateways[n % 2]}/v1/eligibility/programmes", headers=token).status_code
        for n in range(BURST + 1)
    ]  # alternately through each gateway: each alone would have let all of them through
    assert statuses == [200] * BURST + [429], statuses


def test_kill_one_process_of_each_component_and_the_platform_goes_on(stack: RunningStack) -> None:
    org = f"buyer-{uuid.uuid4().hex[:8]}"
    gateway = stack.stack.url("gateway-2")  # the load balancer's one healthy gateway
    advisor_token = {"Authorization": f"Bearer {stack.token('advisor', 'bw-kill')}"}
    buyer_token = {"Authorization": f"Bearer {stack.token('participant', org)}"}
    with (
        httpx.Client(base_url=gateway, headers=advisor_token, timeout=30) as advisor,
        httpx.Client(base_url=gateway, headers=buyer_token, timeout=30) as buyer,
    ):
        factory_id = _enrolled_factory(advisor)
        for cycle in (1, 2):
            path = f"/v1/reports/factories/{factory_id}/cycles"
            ok(advisor.post(path, json={"cycle": cycle}), 201)
        body = {"factory_id": factory_id}
        request = ok(buyer.post("/v1/reports/access-requests", json=body), 201)
        factory_token = {"Authorization": f"Bearer {stack.token('factory', factory_id)}"}
        approve = f"/v1/reports/access-requests/{request['id']}/approve"
        ok(httpx.post(gateway + approve, headers=factory_token, timeout=30))
        credits = {"kind": "credits", "year": 2026, "report_cycles": 2}
        invoice = ok(buyer.post("/v1/billing/invoices", json=credits, headers=key()), 201)

        for component in ["gateway", *SERVICES]:
            stack.stack.kill(component)  # kill -9 of the first process of each
        try:
            payment = {"amount": invoice["total"]}
            path = f"/v1/billing/invoices/{invoice['id']}/payments"
            ok(advisor.post(path, json=payment, headers=key()), 201)
            unlocks = [
                buyer.post(
                    "/v1/reports/unlocks",
                    json={"factory_id": factory_id, "cycle": cycle},
                    headers=key(),
                )
                for cycle in (1, 2, 1)
            ]
            assert [r.status_code for r in unlocks] == [201, 201, 200], [r.text for r in unlocks]
            assert ok(buyer.get("/v1/billing/credits"))["balance"] == 0
            assert len(ok(buyer.get("/v1/reports/unlocks"))["items"]) == 2
        finally:
            stack.stack.start(["gateway", *SERVICES])
            stack.stack.wait_healthy(timeout_s=120)
