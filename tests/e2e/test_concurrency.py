"""The concurrency rules over the real stack, many requests at once through the gateway:
one credit buys one unlock, a footprint is never exceeded, one Idempotency-Key makes one
invoice, a seminar never takes more participants than its places, a buyer gets one shadow
assessment per country and year. With `BW_TEST_REPLICAS=2` (tests/e2e/test_replicas.py)
the same requests are spread over two gateways and two processes of every service, so
each rule is shown to hold in the database, not in one process's memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.world import RunningStack
from tests.helpers import key, ok

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

T = TypeVar("T")
YEAR = datetime.now(UTC).year


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Every call in a thread of its own, all started together."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


class Setup:
    """What the rules need, made through the gateway as an advisor, buyer or factory."""

    def __init__(self, stack: RunningStack, opened: ExitStack) -> None:
        self.stack = stack
        self.opened = opened
        self.advisor = self.client("advisor", "bw")

    def client(self, role: str, org: str) -> httpx.Client:
        return self.opened.enter_context(self.stack.client(role, org))

    def factory(self) -> str:
        body = {"name": f"Busy Garments {uuid.uuid4().hex[:8]}", "address": "1 Road",
                "country": "BD", "region": "Gazipur", "products": ["garments"],
                "worker_count": 900}  # fmt: skip
        factory_id: str = ok(self.advisor.post("/v1/eligibility/factories", json=body), 201)["id"]
        enrol = {"status": "enrolled"}
        ok(self.advisor.post(f"/v1/eligibility/factories/{factory_id}/enrolment", json=enrol))
        return factory_id

    def report_cycles(self, factory_id: str, count: int) -> None:
        for cycle in range(1, count + 1):
            path = f"/v1/reports/factories/{factory_id}/cycles"
            ok(self.advisor.post(path, json={"cycle": cycle}), 201)

    def tpa(self, buyer: httpx.Client, factory_id: str) -> None:
        body = {"factory_id": factory_id}
        request = ok(buyer.post("/v1/reports/access-requests", json=body), 201)
        factory_user = self.client("factory", factory_id)
        ok(factory_user.post(f"/v1/reports/access-requests/{request['id']}/approve"))

    def paid(self, buyer: httpx.Client, body: dict[str, Any]) -> None:
        invoice = ok(buyer.post("/v1/billing/invoices", json=body, headers=key()), 201)
        payment = {"amount": invoice["total"]}
        path = f"/v1/billing/invoices/{invoice['id']}/payments"
        ok(self.advisor.post(path, json=payment, headers=key()), 201)

    def credits(self, buyer: httpx.Client, count: int) -> None:
        self.paid(buyer, {"kind": "credits", "year": YEAR, "report_cycles": count})

    def buyer_with_access(self, *, cycles: int, credits: int) -> tuple[httpx.Client, str]:
        """A new participant with TPA on a new factory of `cycles` report cycles, and credits."""
        buyer = self.client("participant", f"buyer-{uuid.uuid4().hex[:8]}")
        factory_id = self.factory()
        self.report_cycles(factory_id, cycles)
        self.tpa(buyer, factory_id)
        self.credits(buyer, credits)
        return buyer, factory_id

    def footprint(self, partner: httpx.Client, count: int) -> None:
        body = {"kind": "partnership", "year": YEAR, "factory_count": count}
        self.paid(partner, {**body, "apparel_revenue_usd": "500000000"})


@pytest.fixture
def setup(stack: RunningStack) -> Iterator[Setup]:
    with ExitStack() as opened:
        yield Setup(stack, opened)


def unlock(buyer: httpx.Client, factory_id: str, cycle: int = 1) -> Callable[[], httpx.Response]:
    body = {"factory_id": factory_id, "cycle": cycle}
    return lambda: buyer.post("/v1/reports/unlocks", json=body, headers=key())


def test_one_credit_and_ten_concurrent_unlocks_buy_one(setup: Setup) -> None:
    buyer, factory_id = setup.buyer_with_access(cycles=10, credits=1)

    replies = at_once([unlock(buyer, factory_id, cycle) for cycle in range(1, 11)])
    assert sorted(r.status_code for r in replies) == [201] + [402] * 9, [r.text for r in replies]
    assert len(ok(buyer.get("/v1/reports/unlocks"))["items"]) == 1
    credits = ok(buyer.get("/v1/billing/credits"))
    assert credits["balance"] == 0
    assert [e["kind"] for e in credits["entries"]] == ["spend", "purchase"]


def test_a_footprint_of_three_and_six_concurrent_unlocks_of_distinct_factories(
    setup: Setup,
) -> None:
    org = f"brand-{uuid.uuid4().hex[:8]}"
    partner = setup.client("partner", org)
    setup.footprint(partner, 3)
    factories = [setup.factory() for _ in range(6)]
    for factory_id in factories:
        setup.report_cycles(factory_id, 1)
        setup.tpa(partner, factory_id)

    replies = at_once([unlock(partner, factory_id) for factory_id in factories])
    assert sorted(r.status_code for r in replies) == [201] * 3 + [403] * 3
    usage = ok(partner.get("/v1/billing/footprint", params={"year": YEAR}))
    assert usage["used"] == 3
    unlocked = ok(partner.get("/v1/reports/unlocks"))["items"]
    assert len({u["factory_id"] for u in unlocked}) == 3


def test_concurrent_unlocks_of_one_cycle_pay_once(setup: Setup) -> None:
    buyer, factory_id = setup.buyer_with_access(cycles=1, credits=3)

    replies = at_once([unlock(buyer, factory_id) for _ in range(10)])
    # Requests that meet the first in flight get 409 (retry in a moment); none pay twice.
    assert {r.status_code for r in replies} <= {200, 201, 409}, [r.text for r in replies]
    assert len({r.json()["id"] for r in replies if r.status_code < 300}) == 1
    assert ok(buyer.get("/v1/billing/credits"))["balance"] == 2


def test_one_idempotency_key_sent_ten_times_at_once_makes_one_invoice(setup: Setup) -> None:
    org = f"buyer-{uuid.uuid4().hex[:8]}"
    buyer = setup.client("participant", org)
    same = key()
    body = {"kind": "credits", "year": YEAR, "report_cycles": 2}

    replies = at_once([lambda: buyer.post("/v1/billing/invoices", json=body, headers=same)] * 10)
    # The first makes it; the others replay it, or are told it is still in flight (409).
    assert {r.status_code for r in replies} <= {201, 409}, [r.text for r in replies]
    made = {r.json()["id"] for r in replies if r.status_code == 201}
    assert len(made) == 1
    invoices = ok(buyer.get("/v1/billing/invoices"))["items"]
    assert [i["id"] for i in invoices] == list(made)


def test_concurrent_seminar_registrations_never_exceed_its_places(setup: Setup) -> None:
    seminar = ok(
        setup.advisor.post(
            "/v1/cycles/seminars",
            json={"title": "Preventing sexual harassment", "date": date.today().isoformat(),
                  "country": "BD", "duration": "full_day", "capacity": 10},
        ),
        201,
    )  # fmt: skip
    factories = [setup.factory() for _ in range(6)]

    def register(factory_id: str) -> Callable[[], httpx.Response]:
        client = setup.client("factory", factory_id)
        path = f"/v1/cycles/seminars/{seminar['id']}/registrations"
        body = {"factory_id": factory_id, "participants": 3}
        return lambda: client.post(path, json=body)

    replies = at_once([register(factory_id) for factory_id in factories])
    assert sorted(r.status_code for r in replies) == [201] * 3 + [409] * 3
    assert ok(setup.advisor.get(f"/v1/cycles/seminars/{seminar['id']}"))["places_left"] == 1


def test_concurrent_shadow_assessment_requests_take_one_slot(setup: Setup) -> None:
    org = f"brand-{uuid.uuid4().hex[:8]}"
    partner = setup.client("partner", org)
    setup.footprint(partner, 10)
    cycles = []
    for _ in range(2):
        factory_id = setup.factory()
        start = (date.today() - timedelta(days=60)).isoformat()
        path = f"/v1/cycles/factories/{factory_id}/cycles"
        cycles.append(ok(setup.advisor.post(path, json={"start_date": start}), 201))
        setup.tpa(partner, factory_id)
        ok(unlock(partner, factory_id)(), 201)

    soon = (date.today() + timedelta(days=7)).isoformat()

    def shadow(cycle: dict[str, Any]) -> Callable[[], httpx.Response]:
        path = f"/v1/cycles/cycles/{cycle['id']}/visits"
        return lambda: partner.post(path, json={"type": "shadow_assessment", "date": soon})

    replies = at_once([shadow(cycle) for cycle in (*cycles, *cycles)])
    assert sorted(r.status_code for r in replies) == [201, 422, 422, 422]
