"""The event feed on the real stack: a change in billing reaches the buyer's feed through
the gateway, taken in by integrations' own puller (issue 10)."""

from __future__ import annotations

import time
import uuid

from tests.e2e.world import RunningStack


def test_a_purchase_reaches_the_feed_within_a_second(stack: RunningStack) -> None:
    org = f"e2e-events-{uuid.uuid4().hex[:8]}"
    with (
        stack.client("participant", org) as buyer,
        stack.client("advisor", "bw") as advisor,
    ):
        invoice = buyer.post(
            "/v1/billing/invoices",
            json={"kind": "credits", "year": 2026, "report_cycles": 2},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ).json()
        paid = advisor.post(
            f"/v1/billing/invoices/{invoice['id']}/payments",
            json={"amount": invoice["total"]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert paid.status_code == 201, paid.text
        committed = time.monotonic()
        types: list[str] = []
        while time.monotonic() - committed < 5 and len(types) < 3:
            reply = buyer.get("/v1/integrations/events")
            assert reply.status_code == 200, reply.text
            types = [e["type"] for e in reply.json()["items"]]
            time.sleep(0.05)
        seen_after = time.monotonic() - committed
        assert types == ["invoice.issued", "invoice.paid", "credits.purchased"]
        # The target (p99 <= 1 s after commit) is `make bench`'s, on a quiet machine; beside
        # the rest of the suite one sample gets 2 s (the puller wakes every 0.2 s).
        assert seen_after < 2.0, f"the paid invoice reached the feed after {seen_after:.2f} s"
        with stack.client("participant", f"other-{org}") as other:
            assert other.get("/v1/integrations/events").json()["items"] == []
