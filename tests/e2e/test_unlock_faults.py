"""The unlock saga on real processes under real faults (issue 9): a fault proxy between
reports and billing and another between the gateway and reports, kill -9 of the caller or
the callee between two steps, then a normal retry. After each, the reconciliation audit
(`GET /v1/reports/audit/unlock-payments`) must find every active unlock paid for exactly
once and every held payment behind exactly one active unlock; the balance must say the
same. The unlock lease is 2 s here, so the recovery sweep settles what a killed attempt
left within a few seconds."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.stack import Stack
from tests import databases as test_databases
from tests import helpers
from tests.e2e.world import REPLICA_ENV, REPLICAS, Spread
from tests.faultproxy import FaultProxy
from tests.helpers import process_env

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CHARGE = "/internal/charges"
CANCEL = "/internal/charges/cancel"
SERVICES = ["eligibility", "billing", "reports"]


@dataclass
class Faulty:
    stack: Stack
    billing_link: FaultProxy  # reports → billing
    reports_link: FaultProxy  # gateway → reports
    token: Callable[..., str]

    def client(self, role: str, org: str, name: str = "reports", **kw: Any) -> httpx.Client:
        base = self.stack.url(name) + ("/v1/reports" if name == "gateway" else "")
        headers = {"Authorization": f"Bearer {self.token(role, org, **kw)}"}
        return httpx.Client(
            base_url=base, headers=headers, timeout=30.0, transport=Spread(self.stack.urls(name))
        )

    def restart(self, name: str) -> None:
        self.stack.start([name])
        self.stack.wait_healthy([name], timeout_s=60)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    import asyncio

    databases = test_databases.TestDatabases(postgres=True, label="faults")
    asyncio.run(databases.create())
    env = process_env(
        databases,
        BW_UNLOCK_LEASE_SECONDS="2",
        BW_HTTP_TIMEOUT="1.5",
        BW_HTTP_RETRIES="1",
        BW_UPSTREAM_TIMEOUT="5",
    )
    if REPLICAS > 1:
        env |= REPLICA_ENV
    stack = Stack.on_free_ports(
        env, log_dir=Path(tmp_path_factory.mktemp("fault-logs")), replicas=REPLICAS
    )
    ports = stack.ports
    with (
        FaultProxy(*(ports[i] for i in stack.instances("billing"))) as billing_link,
        FaultProxy(*(ports[i] for i in stack.instances("reports"))) as reports_link,
    ):
        stack.via = {"billing": billing_link.url, "reports": reports_link.url}
        try:
            stack.up(SERVICES)
            settings = helpers.test_settings(databases.urls)
            yield Faulty(
                stack,
                billing_link,
                reports_link,
                lambda *a, **k: helpers.token_for(settings, *a, **k),
            )
        finally:
            stack.stop()
            asyncio.run(databases.drop())


def _ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, f"{reply.status_code}: {reply.text}"
    return reply.json()


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def prepare(faulty: Faulty, org: str) -> str:
    """An enrolled factory with two report cycles, its TPA for `org`, and 3 credits."""
    with (
        faulty.client("advisor", "bw", "eligibility") as registry,
        faulty.client("advisor", "bw") as advisor,
        faulty.client("participant", org) as buyer,
        faulty.client("participant", org, "billing") as buyer_billing,
        faulty.client("advisor", "bw", "billing") as advisor_billing,
    ):
        factory = _ok(
            registry.post(
                "/factories",
                json={"name": f"Fault Garments {uuid.uuid4().hex[:8]}", "address": "1 Road",
                      "country": "BD", "region": "Gazipur", "products": ["garments"],
                      "worker_count": 900},
            ),
            201,
        )  # fmt: skip
        factory_id = factory["id"]
        _ok(registry.post(f"/factories/{factory_id}/enrolment", json={"status": "enrolled"}))
        for cycle in (1, 2):
            _ok(advisor.post(f"/factories/{factory_id}/cycles", json={"cycle": cycle}), 201)
        request = _ok(buyer.post("/access-requests", json={"factory_id": factory_id}), 201)
        with faulty.client("factory", factory_id) as factory_user:
            _ok(factory_user.post(f"/access-requests/{request['id']}/approve"))
        invoice = _ok(
            buyer_billing.post(
                "/invoices", json={"kind": "credits", "year": 2026, "report_cycles": 3},
                headers=_key(),
            ),
            201,
        )  # fmt: skip
        _ok(
            advisor_billing.post(
                f"/invoices/{invoice['id']}/payments",
                json={"amount": invoice["total"]},
                headers=_key(),
            ),
            201,
        )
    return str(factory_id)


def unlock(faulty: Faulty, org: str, factory_id: str, cycle: int = 1, **kw: Any) -> httpx.Response:
    with faulty.client("participant", org, **kw) as buyer:
        return buyer.post(
            "/unlocks", json={"factory_id": factory_id, "cycle": cycle}, headers=_key()
        )


def unlock_eventually(faulty: Faulty, org: str, factory_id: str) -> dict[str, Any]:
    """Retry as a client would (409 means: an earlier attempt is still settling)."""
    deadline = time.monotonic() + 30
    while True:
        reply = unlock(faulty, org, factory_id)
        if reply.status_code in (200, 201) or time.monotonic() > deadline:
            return dict(_ok(reply, reply.status_code if reply.status_code < 300 else 201))
        assert reply.status_code in (409, 503), reply.text
        time.sleep(0.3)


def assert_consistent(faulty: Faulty, org: str, *, active: int) -> None:
    """Wait for the recovery sweep, then the audit, the unlocks and the balance agree."""
    deadline = time.monotonic() + 30
    with faulty.client("advisor", "bw") as advisor:
        while True:
            report = _ok(advisor.get("/audit/unlock-payments"))
            if (report["consistent"] and report["in_flight"] == 0) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    assert report["discrepancies"] == [], report
    assert report["in_flight"] == 0
    with faulty.client("participant", org) as buyer:
        unlocks = _ok(buyer.get("/unlocks"))["items"]
        assert len(unlocks) == active
    with faulty.client("participant", org, "billing") as billing:
        assert _ok(billing.get("/credits"))["balance"] == 3 - active
    # Each active unlock has exactly one `unlock.created` event; an attempt given up or
    # cancelled has none (the activation commits with its event, or neither happens).
    assert sorted(unlock_events(faulty, org)) == sorted(u["id"] for u in unlocks)


def unlock_events(faulty: Faulty, org: str) -> list[str]:
    """The unlocks named by `unlock.created` events of `org` in reports' outbox."""
    found: list[str] = []
    after = 0
    with faulty.client("service", "tests") as service:
        while batch := _ok(service.get("/internal/events", params={"after": after}))["events"]:
            found += [
                e["subject"]["id"]
                for e in batch
                if e["type"] == "unlock.created" and e["data"]["buyer_org"] == org
            ]
            after = batch[-1]["sequence"]
    return found


def fault_case(faulty: Faulty, name: str) -> tuple[str, str]:
    faulty.billing_link.clear()
    faulty.reports_link.clear()
    org = f"buyer-{name}-{uuid.uuid4().hex[:6]}"
    return org, prepare(faulty, org)


@pytest.mark.parametrize(
    ("faults", "first"),
    [
        ({CHARGE: ["drop_reply", "drop_reply"], CANCEL: ["drop_reply", "drop_reply"]}, 503),
        ({CHARGE: ["reset_mid_body", "reset_mid_body"]}, 503),
        ({CHARGE: ["delay:2.5", "delay:2.5"]}, 503),
        ({CHARGE: ["refuse", "refuse"]}, 503),
        ({CHARGE: ["drop_reply"]}, 201),
        ({CHARGE: ["drop_reply", "drop_reply"], CANCEL: ["refuse", "refuse"]}, 503),
    ],
    ids=["lost-replies", "reset-mid-body", "past-timeout", "refused", "lost-once", "no-cancel"],
)
def test_billing_link_faults_then_retry(
    faulty: Faulty, faults: dict[str, list[str]], first: int
) -> None:
    org, factory_id = fault_case(faulty, "link")
    for path, planned in faults.items():
        faulty.billing_link.plan(path, *planned)
    assert unlock(faulty, org, factory_id).status_code == first
    unlock_eventually(faulty, org, factory_id)
    assert_consistent(faulty, org, active=1)


def test_kill_the_caller_after_billing_charged(faulty: Faulty) -> None:
    """kill -9 reports between the charge (committed in billing) and the activation."""
    org, factory_id = fault_case(faulty, "kill-after-charge")
    faulty.billing_link.plan(CHARGE, "hold_reply")
    with httpx.Client(timeout=30) as http:
        token = faulty.token("participant", org)
        pending = http.build_request(
            "POST", faulty.stack.url("reports") + "/unlocks",
            json={"factory_id": factory_id, "cycle": 1},
            headers={"Authorization": f"Bearer {token}", **_key()},
        )  # fmt: skip
        outcome: list[BaseException | httpx.Response] = []

        def send() -> None:
            try:
                outcome.append(http.send(pending))
            except httpx.HTTPError as exc:
                outcome.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        faulty.billing_link.arrived(CHARGE)
        faulty.stack.kill("reports")
        faulty.billing_link.release()
        sender.join(30)
    assert outcome and isinstance(outcome[0], httpx.HTTPError)  # the caller died mid-request
    faulty.restart("reports")
    unlock_eventually(faulty, org, factory_id)
    assert_consistent(faulty, org, active=1)


def test_kill_the_caller_before_its_charge_arrives(faulty: Faulty) -> None:
    """kill -9 reports while its charge is on the way; the charge then arrives late."""
    org, factory_id = fault_case(faulty, "kill-before-charge")
    faulty.billing_link.plan(CHARGE, "hold_request")
    sender = threading.Thread(target=lambda: _swallow(lambda: unlock(faulty, org, factory_id)))
    sender.start()
    faulty.billing_link.arrived(CHARGE)
    faulty.stack.kill("reports")
    faulty.billing_link.release()  # the orphan charge reaches billing now
    sender.join(30)
    faulty.restart("reports")
    assert_consistent(faulty, org, active=0)
    unlock_eventually(faulty, org, factory_id)
    assert_consistent(faulty, org, active=1)


def test_kill_the_callee_mid_charge(faulty: Faulty) -> None:
    """kill -9 billing while a charge waits to reach it; billing comes back later. With two
    replicas (BW_TEST_REPLICAS=2) the other one takes the charge, and the unlock is made."""
    org, factory_id = fault_case(faulty, "kill-billing")
    faulty.billing_link.plan(CHARGE, "hold_request")
    replies: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: replies.append(unlock(faulty, org, factory_id)))
    sender.start()
    faulty.billing_link.arrived(CHARGE)
    faulty.stack.kill("billing")
    faulty.billing_link.release()
    sender.join(30)
    assert replies and replies[0].status_code == (503 if REPLICAS == 1 else 201)
    faulty.restart("billing")
    unlock_eventually(faulty, org, factory_id)
    assert_consistent(faulty, org, active=1)


def test_gateway_loses_the_unlock_reply(faulty: Faulty) -> None:
    """The gateway → reports hop loses the reply of a completed unlock: the client sees a
    502 and retries with the same Idempotency-Key, getting the same unlock at no charge."""
    org, factory_id = fault_case(faulty, "gateway")
    faulty.reports_link.plan("/unlocks", "drop_reply")
    headers = _key()
    with faulty.client("participant", org, "gateway") as buyer:
        body = {"factory_id": factory_id, "cycle": 1}
        lost = buyer.post("/unlocks", json=body, headers=headers)
        assert lost.status_code == 502
        assert lost.headers["content-type"] == "application/problem+json"
        again = _ok(buyer.post("/unlocks", json=body, headers=headers), 201)
        assert again["charged_credits"] == 1
    assert_consistent(faulty, org, active=1)


def _swallow(call: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        call()


def test_make_audit_reports_and_exits_by_the_outcome(
    faulty: Faulty, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.reports import cli

    org, factory_id = fault_case(faulty, "audit")
    unlocked = _ok(unlock(faulty, org, factory_id), 201)
    monkeypatch.setenv("BW_AUDIT_TOKEN", faulty.token("advisor", "bw", countries=["*"]))
    gateway = faulty.stack.url("gateway")
    assert cli.main(["--url", gateway]) == 0
    assert "consistent" in capsys.readouterr().out
    # Damage: the payment behind the unlock is given back behind reports' back.
    with faulty.client("service", "bw", "billing") as billing:
        body = {"org": org, "kind": "credit", "factory_id": factory_id,
                "references": [f"{unlocked['id']}.1"]}  # fmt: skip
        _ok(billing.post("/internal/charges/cancel", json=body))
    assert cli.main(["--url", gateway]) == 1
    out = capsys.readouterr().out
    assert f"unlock_without_payment org={org} unlock_id={unlocked['id']}" in out
    assert cli.main(["--url", "http://127.0.0.1:9"]) == 2
