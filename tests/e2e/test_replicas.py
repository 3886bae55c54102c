"""Two processes of every service and of the gateway, on one PostgreSQL and one Redis
(issue 13, item 2). Callers address every replica of a service (`shared.replicas`); here
the test's clients spread their requests over the two gateways as a load balancer would.

- The whole e2e directory (walkthroughs, the concurrency rules, the unlock fault matrix)
  runs again in this mode, in a pytest of its own with `BW_TEST_REPLICAS=2`.
- Here: traffic reaches both processes of each component; the rate limit is one budget
  across the gateways (Redis); kill -9 of one replica of each service and of one gateway
  leaves the platform answering, with nothing lost or done twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.settings import SERVICES
from shared.stack import Stack
from tests import conftest as suite
from tests import databases as test_databases
from tests.e2e.conftest import REPLICA_ENV, RunningStack
from tests.helpers import key, ok, process_env, run_pytest

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

BURST = 20


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    databases = test_databases.TestDatabases(postgres=True, label="replicas")
    asyncio.run(databases.create())
    env = process_env(
        databases, **REPLICA_ENV, BW_RATE_LIMIT_PER_MINUTE="6", BW_RATE_LIMIT_BURST=str(BURST)
    )
    stack = Stack.on_free_ports(
        env, log_dir=Path(tmp_path_factory.mktemp("replica-logs")), replicas=2
    )
    try:
        stack.up()
        yield RunningStack(stack, suite.test_settings(databases.urls))
    finally:
        stack.stop()
        asyncio.run(databases.drop())


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


def test_requests_reach_both_processes_of_every_component(pair: RunningStack) -> None:
    before = {i: _requests_served(pair.stack.url(i)) for i in pair.stack.processes}
    for n in range(8):  # each from its own organisation: the rate limit is not the subject
        with pair.client("advisor", f"bw-{n}") as advisor:
            factory_id = _enrolled_factory(advisor)
            ok(advisor.post(f"/v1/reports/factories/{factory_id}/cycles", json={"cycle": 1}), 201)
            ok(advisor.get(f"/v1/cycles/factories/{factory_id}/cycles"))
            ok(advisor.get("/v1/billing/price-books/2026"))
            ok(advisor.get("/v1/integrations/events"))
    served = {i: _requests_served(pair.stack.url(i)) - before[i] for i in pair.stack.processes}
    idle = [instance for instance, count in served.items() if count == 0]
    assert not idle, served


def test_the_rate_limit_is_one_budget_across_the_gateways(pair: RunningStack) -> None:
    org = f"brand-{uuid.uuid4().hex[:8]}"
    gateways = pair.stack.urls("gateway")
    token = {"Authorization": f"Bearer {pair.token('partner', org)}"}
    statuses = [
        httpx.get(f"{gateways[n % 2]}/v1/eligibility/programmes", headers=token).status_code
        for n in range(BURST + 1)
    ]  # alternately through each gateway: each alone would have let all of them through
    assert statuses == [200] * BURST + [429], statuses


def test_kill_one_process_of_each_component_and_the_platform_goes_on(pair: RunningStack) -> None:
    org = f"buyer-{uuid.uuid4().hex[:8]}"
    gateway = pair.stack.url("gateway-2")  # the load balancer's one healthy gateway
    advisor_token = {"Authorization": f"Bearer {pair.token('advisor', 'bw-kill')}"}
    buyer_token = {"Authorization": f"Bearer {pair.token('participant', org)}"}
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
        factory_token = {"Authorization": f"Bearer {pair.token('factory', factory_id)}"}
        approve = f"/v1/reports/access-requests/{request['id']}/approve"
        ok(httpx.post(gateway + approve, headers=factory_token, timeout=30))
        credits = {"kind": "credits", "year": 2026, "report_cycles": 2}
        invoice = ok(buyer.post("/v1/billing/invoices", json=credits, headers=key()), 201)

        for component in ["gateway", *SERVICES]:
            pair.stack.kill(component)  # kill -9 of the first process of each
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
            pair.stack.start(["gateway", *SERVICES])
            pair.stack.wait_healthy(timeout_s=120)


def test_the_e2e_suite_passes_on_two_replicas_of_everything() -> None:
    """Walkthroughs, concurrency rules and the unlock fault matrix, in replica mode."""
    suites = ["tests/e2e", "--ignore=tests/e2e/test_pgbouncer.py", "--ignore=" + __file__]
    run_pytest(suites, timeout_s=1200, BW_TEST_REPLICAS="2")
